import Foundation
import Testing

@testable import ClickPipeline

/// The report's folder swap: `creators/` is replaced whole, in one step where the system allows.
@Suite struct StagingDirectoryTests {
  @Test func replacingSwapsTheWholeFolderAndLeavesNothingBehind() throws {
    let dir = try TemporaryDirectory()
    let final = dir.file("out/creators")
    try dir.write("out/creators/old.md", "old\n")
    try dir.write("out/creators/gone.md", "gone\n")
    let staging = try StagingDirectory(finalPath: final)
    try staging.write("old.md", "new\n")
    try staging.write("added.md", "added\n")
    try staging.commit(replacing: true)
    let fm = FileManager.default
    #expect(try fm.contentsOfDirectory(atPath: final).sorted() == ["added.md", "old.md"])
    #expect(try String(contentsOfFile: final + "/old.md", encoding: .utf8) == "new\n")
    #expect(try fm.contentsOfDirectory(atPath: dir.file("out")) == ["creators"], "no staging or old folder is left")
  }

  /// On Linux the swap is `renameat2(RENAME_EXCHANGE)`: at no moment is `creators/` missing.
  @Test func exchangeSwapsTwoFoldersInOneStep() throws {
    let dir = try TemporaryDirectory()
    let a = try dir.write("a/x.md", "a\n")
    let b = try dir.write("b/y.md", "b\n")
    #if os(Linux)
      #expect(StagingDirectory.exchange(dir.file("a"), dir.file("b")))
      #expect(try String(contentsOfFile: dir.file("a/y.md"), encoding: .utf8) == "b\n")
      #expect(try String(contentsOfFile: dir.file("b/x.md"), encoding: .utf8) == "a\n")
      #expect(!StagingDirectory.exchange(dir.file("a"), dir.file("missing")), "both paths must exist")
    #else
      #expect(!StagingDirectory.exchange(a, b))
    #endif
    _ = (a, b)
  }
}
