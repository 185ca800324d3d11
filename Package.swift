// swift-tools-version: 6.1
import PackageDescription

// ISA-L inflates gzip about 2.5x faster than zlib here (see docs/BENCHMARKS.md), so it is a
// required system package (Debian: libisal-dev), not one detected here: SwiftPM caches this
// manifest's evaluation, and a detection made before the package was installed would stick.

let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  // Dynamic exclusivity checks cost ~5% of ingest (profiled); the code shares no mutable state
  // across threads except through locks. Debug builds (and so the tests) keep the checks.
  .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
  name: "ClickPipeline",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "ingest", targets: ["Ingest"]),
    .executable(name: "aggregate", targets: ["Aggregate"]),
    .executable(name: "report", targets: ["Report"]),
    .executable(name: "backup", targets: ["Backup"]),
    .library(name: "ClickPipeline", targets: ["ClickPipeline"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
    // C helpers Swift lacks: glibc's malloc_trim, a prefetch hint (docs/DESIGN.md).
    .systemLibrary(name: "CSupport", path: "Sources/CSupport"),
    // Staged event segments are zstd frames (Debian: libzstd-dev); see docs/DESIGN.md.
    .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    .target(
      name: "CGzip",
      path: "Sources/CGzip",
      linkerSettings: [.linkedLibrary("z"), .linkedLibrary("isal")]
    ),
    .target(
      name: "ClickPipeline",
      dependencies: [
        "CSQLite", "CGzip", "CZstd", "CSupport",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "ClickPipelineCLI",
      dependencies: [
        "ClickPipeline",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "Ingest",
      dependencies: [
        "ClickPipelineCLI", .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "Aggregate",
      dependencies: [
        "ClickPipelineCLI", .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "Report",
      dependencies: [
        "ClickPipelineCLI", .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "Backup",
      dependencies: [
        "ClickPipelineCLI", .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PipelineTests",
      // The executables are dependencies so that `swift test` builds them: the end-to-end
      // tests run the real processes.
      dependencies: [
        "ClickPipeline", "ClickPipelineCLI", "Ingest", "Aggregate", "Report", "Backup",
        .product(name: "Logging", package: "swift-log"),
      ],
      resources: [.copy("Fixtures")],
      swiftSettings: swiftSettings
    ),
  ]
)
