package io.granary.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A minimal Redis client (RESP2 over one socket), enough to load hashes and pipeline HMGETs. */
final class Resp implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    Resp(int port) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
        in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    }

    /** Queues one command; nothing is sent until {@link #flush}. */
    void send(List<byte[]> arguments) throws IOException {
        out.write('*');
        out.write(Integer.toString(arguments.size()).getBytes(StandardCharsets.US_ASCII));
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        for (byte[] argument : arguments) {
            out.write('$');
            out.write(Integer.toString(argument.length).getBytes(StandardCharsets.US_ASCII));
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(argument);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    void flush() throws IOException {
        out.flush();
    }

    /** Reads one reply, whatever its shape, and returns how many bulk values it held. */
    int readReply() throws IOException {
        int type = in.read();
        String line = readLine();
        switch (type) {
            case '+', ':' -> {
                return 0;
            }
            case '-' -> throw new IOException("redis: " + line);
            case '$' -> {
                int length = Integer.parseInt(line);
                if (length >= 0) {
                    in.readNBytes(length + 2); // a client hands each value over as bytes: so does this one
                }
                return 1;
            }
            case '*' -> {
                int items = Integer.parseInt(line);
                int values = 0;
                for (int i = 0; i < items; i++) {
                    values += readReply();
                }
                return values;
            }
            default -> throw new IOException("unexpected redis reply type " + type);
        }
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("redis closed the connection");
            }
            line.append((char) c);
        }
        in.read();
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
