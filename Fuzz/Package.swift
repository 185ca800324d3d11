// swift-tools-version: 6.1
// libFuzzer targets for ClickPipeline's input layer. A separate package: the main package never
// builds it. Build and run with ../scripts/fuzz.sh, or here with
//     swift build -c release --sanitize=fuzzer
// `--sanitize=fuzzer` makes SwiftPM link libFuzzer's main(); AddressSanitizer comes from the
// flags below (-sanitize=fuzzer,address as one flag). Do not add `--sanitize=address` on the
// command line: with Swift 6.3 that builds binaries whose coverage libFuzzer does not see
// (it reports "cov: 2" forever).
//
// The sources of the main package's Input, Events and Money folders (and Sources/CGzip) are
// symbolic links, compiled into each fuzz target's own module so that the fuzz entry points
// can reach the internal scanners and the two gzip backends. The few files from elsewhere that
// those folders use (Support/EventKeyHash.swift, Support/StepClock.swift) are linked one by one
// into each target; when the main package's Input or Events starts using another one, link it
// too (`.ci/run` builds this package, so CI fails until then).
import PackageDescription

let fuzzSwiftSettings: [SwiftSetting] = [
  // libFuzzer provides main(); the entry point is LLVMFuzzerTestOneInput (@_cdecl).
  .unsafeFlags(["-parse-as-library", "-sanitize=fuzzer,address"]),
  .enableUpcomingFeature("ExistentialAny"),
]

let fuzzLinkerSettings: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

let package = Package(
  name: "ClickPipelineFuzz",
  targets: [
    .target(
      name: "CGzip",
      path: "Sources/CGzip",
      cSettings: [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])],
      linkerSettings: [.linkedLibrary("z"), .linkedLibrary("isal")]
    ),
    // FileParser over whole files: LineReader, JSONLineScanner, CSVLineScanner, EventValidator.
    .executableTarget(
      name: "FuzzParser", dependencies: ["CGzip"], swiftSettings: fuzzSwiftSettings, linkerSettings: fuzzLinkerSettings),
    // FileByteStream: ISA-L and zlib backends against each other, tiny and large raw reads.
    .executableTarget(
      name: "FuzzGzip", dependencies: ["CGzip"], swiftSettings: fuzzSwiftSettings, linkerSettings: fuzzLinkerSettings),
    // FastJSONScanner against JSONLineScanner, line by line: the fast one declines or agrees.
    .executableTarget(
      name: "FuzzScanners", dependencies: ["CGzip"], swiftSettings: fuzzSwiftSettings, linkerSettings: fuzzLinkerSettings),
  ]
)
