// swift-tools-version:5.9
import PackageDescription

// The EdgeSER library (frontend, streaming, Core ML classifier, microphone capture) and its
// tests; the SwiftUI app in App/ is an Xcode iOS app target that depends on this package.
let package = Package(
    name: "EdgeSER",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "EdgeSER", targets: ["EdgeSER"]),
    ],
    targets: [
        .target(name: "EdgeSER"),
        .testTarget(name: "EdgeSERTests", dependencies: ["EdgeSER"]),
    ]
)
