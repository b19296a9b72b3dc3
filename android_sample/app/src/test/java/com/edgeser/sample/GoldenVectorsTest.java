package com.edgeser.sample;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.Test;

/**
 * The Java frontend against the NumPy reference's golden vectors, through the same comparison
 * code as the {@link GoldenCheck} command line. The directory comes from the system property
 * {@code edgeser.goldenDir} (set in app/build.gradle.kts; override with
 * {@code -Pedgeser.goldenDir=PATH} to check an export's golden/ folder).
 */
public class GoldenVectorsTest {
    @Test
    public void frontendMatchesGoldenVectors() throws Exception {
        String property = System.getProperty("edgeser.goldenDir");
        assertNotNull("system property edgeser.goldenDir is not set", property);
        Path goldenDir = Paths.get(property);
        assertTrue("golden directory not found: " + goldenDir, Files.isDirectory(goldenDir));

        List<GoldenCheck.Result> results =
                GoldenCheck.checkDirectory(goldenDir, new LogMelFrontend());

        assertFalse("no golden signals in " + goldenDir, results.isEmpty());
        for (GoldenCheck.Result result : results) {
            assertTrue(result.describe(), result.passes(GoldenCheck.TOLERANCE));
        }
    }
}
