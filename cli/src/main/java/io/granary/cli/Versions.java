package io.granary.cli;

import picocli.CommandLine.IVersionProvider;

/** `granary --version`: Granary's version and the versions of what it runs on. */
public final class Versions implements IVersionProvider {

    public static String granary() {
        String version = Versions.class.getPackage().getImplementationVersion();
        return version == null ? "0.1.0-SNAPSHOT" : version;
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "granary " + granary(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
            "Iceberg " + org.apache.iceberg.IcebergBuild.version() + ", Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION(),
        };
    }
}
