// A minimal Android library module that runs an edgegnn artifact by signature.
// Copy this directory into an Android project (include(":edgegnn") in settings.gradle.kts).
// The edgegnn repository compile-checks its Kotlin against stubs (compile_check/) and runs
// GraphInputs on the JVM; it has no Android SDK to build the module. See docs/devices.md.
plugins {
  id("com.android.library")
  id("org.jetbrains.kotlin.android")
}

android {
  namespace = "dev.edgegnn"
  compileSdk = 34
  defaultConfig { minSdk = 21 }
  compileOptions {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
  }
  kotlinOptions { jvmTarget = "17" }
  // .tflite files must stay uncompressed in the APK to be memory-mapped.
  androidResources { noCompress += listOf("tflite") }
}

dependencies {
  // LiteRT (the successor of TensorFlow Lite), Interpreter API with signature runners.
  implementation("com.google.ai.edge.litert:litert:1.4.1")
}
