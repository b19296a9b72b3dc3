import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.edgeser.sample"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.edgeser.sample"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    testOptions {
        unitTests.all {
            // Golden vectors of the NumPy reference; pass -Pedgeser.goldenDir=DIR/golden to check
            // the golden/ folder of an export instead.
            val goldenDir = project.findProperty("edgeser.goldenDir")?.toString()
                ?: rootProject.file("../reference_preprocess/golden").absolutePath
            it.systemProperty("edgeser.goldenDir", goldenDir)
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // LiteRT (formerly TensorFlow Lite); the classes keep the org.tensorflow.lite package.
    implementation("com.google.ai.edge.litert:litert:1.4.0")
    // The MediaPipe Tasks path (MediaPipeEmotionClassifier): no DSP or labels code in the app.
    implementation("com.google.mediapipe:tasks-audio:0.10.26")
    testImplementation("junit:junit:4.13.2")
}
