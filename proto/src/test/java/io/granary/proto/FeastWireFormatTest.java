package io.granary.proto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Timestamp;
import com.google.protobuf.WireFormat;
import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponseMetadata;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.EntityKeyProto.EntityKey;
import feast.proto.types.ValueProto.Int64List;
import feast.proto.types.ValueProto.Null;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import feast.proto.types.ValueProto.ValueType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks the bytes our generated classes put on the wire against the field numbers and wire
 * types of ../shared/FEAST_PROTOCOL.md, by decoding them by hand rather than with the same
 * generated code (which would agree with itself whatever the numbers were).
 */
class FeastWireFormatTest {

    /** One decoded field: number, wire type and raw payload (varint value or bytes). */
    private record Field(int number, int wireType, long varint, ByteString bytes) {}

    private static List<Field> decode(ByteString message) throws IOException {
        CodedInputStream in = message.newCodedInput();
        List<Field> fields = new ArrayList<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int number = WireFormat.getTagFieldNumber(tag);
            int wireType = WireFormat.getTagWireType(tag);
            switch (wireType) {
                case WireFormat.WIRETYPE_VARINT -> fields.add(new Field(number, wireType, in.readInt64(), null));
                case WireFormat.WIRETYPE_LENGTH_DELIMITED -> fields.add(new Field(number, wireType, 0, in.readBytes()));
                case WireFormat.WIRETYPE_FIXED64 -> fields.add(new Field(number, wireType, in.readFixed64(), null));
                case WireFormat.WIRETYPE_FIXED32 -> fields.add(new Field(number, wireType, in.readFixed32(), null));
                default -> throw new AssertionError("unexpected wire type " + wireType);
            }
        }
        return fields;
    }

    private static Field only(ByteString message) throws IOException {
        List<Field> fields = decode(message);
        assertThat(fields).hasSize(1);
        return fields.get(0);
    }

    @Test
    void valueKindsUseTheValueTypeNumbers() throws IOException {
        assertThat(only(Value.newBuilder().setBytesVal(ByteString.copyFromUtf8("b")).build().toByteString()))
                .extracting(Field::number, Field::wireType).containsExactly(1, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        assertThat(only(Value.newBuilder().setStringVal("s").build().toByteString()).number()).isEqualTo(2);
        assertThat(only(Value.newBuilder().setInt32Val(7).build().toByteString()))
                .extracting(Field::number, Field::wireType, Field::varint).containsExactly(3, 0, 7L);
        assertThat(only(Value.newBuilder().setInt64Val(1L << 40).build().toByteString()))
                .extracting(Field::number, Field::wireType, Field::varint).containsExactly(4, 0, 1L << 40);
        Field dbl = only(Value.newBuilder().setDoubleVal(2.5).build().toByteString());
        assertThat(dbl.number()).isEqualTo(5);
        assertThat(Double.longBitsToDouble(dbl.varint())).isEqualTo(2.5);
        Field flt = only(Value.newBuilder().setFloatVal(1.5f).build().toByteString());
        assertThat(flt.number()).isEqualTo(6);
        assertThat(Float.intBitsToFloat((int) flt.varint())).isEqualTo(1.5f);
        assertThat(only(Value.newBuilder().setBoolVal(true).build().toByteString()))
                .extracting(Field::number, Field::varint).containsExactly(7, 1L);
        assertThat(only(Value.newBuilder().setUnixTimestampVal(1_764_000_000L).build().toByteString()))
                .extracting(Field::number, Field::varint).containsExactly(8, 1_764_000_000L);
        Field list = only(Value.newBuilder()
                .setInt64ListVal(Int64List.newBuilder().addVal(1).addVal(2)).build().toByteString());
        assertThat(list.number()).isEqualTo(14);
        assertThat(decode(list.bytes())).extracting(Field::number).containsOnly(1);
        assertThat(only(Value.newBuilder()
                .setUnixTimestampListVal(Int64List.newBuilder().addVal(5)).build().toByteString()).number())
                .isEqualTo(18);
        assertThat(only(Value.newBuilder().setNullVal(Null.NULL).build().toByteString()))
                .extracting(Field::number, Field::wireType, Field::varint).containsExactly(19, 0, 0L);
    }

    @Test
    void listKindsAreNumberedElevenToSeventeen() {
        var descriptor = Value.getDescriptor();
        assertThat(descriptor.findFieldByName("bytes_list_val").getNumber()).isEqualTo(11);
        assertThat(descriptor.findFieldByName("string_list_val").getNumber()).isEqualTo(12);
        assertThat(descriptor.findFieldByName("int32_list_val").getNumber()).isEqualTo(13);
        assertThat(descriptor.findFieldByName("int64_list_val").getNumber()).isEqualTo(14);
        assertThat(descriptor.findFieldByName("double_list_val").getNumber()).isEqualTo(15);
        assertThat(descriptor.findFieldByName("float_list_val").getNumber()).isEqualTo(16);
        assertThat(descriptor.findFieldByName("bool_list_val").getNumber()).isEqualTo(17);
        assertThat(ValueType.Enum.NULL.getNumber()).isEqualTo(19);
        assertThat(ValueType.Enum.UNIX_TIMESTAMP_LIST.getNumber()).isEqualTo(18);
    }

    @Test
    void requestFieldsMatchFeast() throws IOException {
        GetOnlineFeaturesRequest request = GetOnlineFeaturesRequest.newBuilder()
                .setFeatures(FeatureList.newBuilder().addVal("user_stats:clicks_7d"))
                .putEntities("user_id", RepeatedValue.newBuilder()
                        .addVal(Value.newBuilder().setInt64Val(1001)).build())
                .setFullFeatureNames(true)
                .putRequestContext("device", RepeatedValue.newBuilder()
                        .addVal(Value.newBuilder().setStringVal("ios")).build())
                .build();

        List<Field> fields = decode(request.toByteString());
        assertThat(fields).extracting(Field::number).containsExactly(2, 3, 4, 5);

        List<Field> featureList = decode(fields.get(0).bytes());
        assertThat(featureList).singleElement().satisfies(f -> {
            assertThat(f.number()).isEqualTo(1);
            assertThat(f.bytes().toStringUtf8()).isEqualTo("user_stats:clicks_7d");
        });

        // map entries are messages {key = 1 : string, value = 2 : RepeatedValue}
        List<Field> entry = decode(fields.get(1).bytes());
        assertThat(entry).extracting(Field::number).containsExactly(1, 2);
        assertThat(entry.get(0).bytes().toStringUtf8()).isEqualTo("user_id");
        Field repeatedVal = only(entry.get(1).bytes());
        assertThat(repeatedVal.number()).isEqualTo(1);
        assertThat(only(repeatedVal.bytes())).extracting(Field::number, Field::varint).containsExactly(4, 1001L);

        assertThat(fields.get(2)).extracting(Field::wireType, Field::varint).containsExactly(0, 1L);
        assertThat(decode(fields.get(3).bytes()).get(0).bytes().toStringUtf8()).isEqualTo("device");

        GetOnlineFeaturesRequest byService = GetOnlineFeaturesRequest.newBuilder().setFeatureService("ctr_v1").build();
        assertThat(only(byService.toByteString()))
                .satisfies(f -> assertThat(f.number()).isEqualTo(1))
                .satisfies(f -> assertThat(f.bytes().toStringUtf8()).isEqualTo("ctr_v1"));
    }

    @Test
    void responseFieldsMatchFeast() throws IOException {
        GetOnlineFeaturesResponse response = GetOnlineFeaturesResponse.newBuilder()
                .setMetadata(GetOnlineFeaturesResponseMetadata.newBuilder()
                        .setFeatureNames(FeatureList.newBuilder().addVal("user_id").addVal("clicks_7d")))
                .addResults(GetOnlineFeaturesResponse.FeatureVector.newBuilder()
                        .addValues(Value.newBuilder().setInt64Val(1001))
                        .addStatuses(FieldStatus.PRESENT)
                        .addEventTimestamps(Timestamp.getDefaultInstance()))
                .addResults(GetOnlineFeaturesResponse.FeatureVector.newBuilder()
                        .addValues(Value.getDefaultInstance())
                        .addStatuses(FieldStatus.OUTSIDE_MAX_AGE)
                        .addEventTimestamps(Timestamp.newBuilder().setSeconds(1_764_000_000L)))
                .setStatus(true)
                .build();

        List<Field> fields = decode(response.toByteString());
        assertThat(fields).extracting(Field::number).containsExactly(1, 2, 2, 3);

        Field featureNames = only(fields.get(0).bytes());
        assertThat(featureNames.number()).isEqualTo(1);
        assertThat(decode(featureNames.bytes())).extracting(f -> f.bytes().toStringUtf8())
                .containsExactly("user_id", "clicks_7d");

        List<Field> secondVector = decode(fields.get(2).bytes());
        assertThat(secondVector).extracting(Field::number).containsExactly(1, 2, 3);
        // statuses are a packed repeated enum: one length-delimited field holding varints
        assertThat(secondVector.get(1).wireType()).isEqualTo(WireFormat.WIRETYPE_LENGTH_DELIMITED);
        assertThat(secondVector.get(1).bytes().newCodedInput().readEnum()).isEqualTo(4);
        assertThat(only(secondVector.get(2).bytes())).extracting(Field::number, Field::varint)
                .containsExactly(1, 1_764_000_000L);
        assertThat(fields.get(3).varint()).isEqualTo(1L);
    }

    @Test
    void fieldStatusNumbersMatchFeast() {
        assertThat(FieldStatus.INVALID.getNumber()).isZero();
        assertThat(FieldStatus.PRESENT.getNumber()).isEqualTo(1);
        assertThat(FieldStatus.NULL_VALUE.getNumber()).isEqualTo(2);
        assertThat(FieldStatus.NOT_FOUND.getNumber()).isEqualTo(3);
        assertThat(FieldStatus.OUTSIDE_MAX_AGE.getNumber()).isEqualTo(4);
    }

    @Test
    void entityKeyFieldsMatchFeast() throws IOException {
        EntityKey key = EntityKey.newBuilder().addJoinKeys("user_id")
                .addEntityValues(Value.newBuilder().setInt64Val(3)).build();
        assertThat(decode(key.toByteString())).extracting(Field::number).containsExactly(1, 2);
    }

    @Test
    void grpcMethodPathsMatchFeast() {
        assertThat(ServingServiceGrpc.getGetOnlineFeaturesMethod().getFullMethodName())
                .isEqualTo("feast.serving.ServingService/GetOnlineFeatures");
        assertThat(ServingServiceGrpc.getGetFeastServingInfoMethod().getFullMethodName())
                .isEqualTo("feast.serving.ServingService/GetFeastServingInfo");
    }
}
