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
    try staging.write("old.md", Array("new\n".utf8))
    try staging.write("added.md", Array("added\n".utf8))
    try staging.commit(replacing: true)
    let fm = FileManager.default
    #expect(try fm.contentsOfDirectory(atPath: final).sorted() == ["added.md", "old.md"])
    #expect(try String(contentsOfFile: final + "/old.md", encoding: .utf8) == "new\n")
    #expect(
      try fm.contentsOfDirectory(atPath: dir.file("out")).sorted() == [".creators.previous", "creators"],
      "no staging folder is left; the replaced folder is kept for the next report")
    #expect(try fm.contentsOfDirectory(atPath: dir.file("out/.creators.previous")).sorted() == ["gone.md", "old.md"])
  }

  /// The next full report is built in the previous one's folder: a statement written again
  /// keeps its file (its inode), one not written again is removed before the swap.
  @Test func theNextReportOverwritesThePreviousFolder() throws {
    let dir = try TemporaryDirectory()
    let final = dir.file("out/creators")
    for round in 1...3 {
      let staging = try StagingDirectory(finalPath: final)
      try staging.write("kept.md", Array("round \(round)\n".utf8))
      try staging.write("r\(round).md", Array("only in round \(round)\n".utf8))
      try staging.commit(replacing: true)
    }
    let fm = FileManager.default
    #expect(try fm.contentsOfDirectory(atPath: final).sorted() == ["kept.md", "r3.md"])
    #expect(try String(contentsOfFile: final + "/kept.md", encoding: .utf8) == "round 3\n")
    // Round 3 was built in round 1's folder: its kept.md is the same file, overwritten.
    let previous = try fm.contentsOfDirectory(atPath: dir.file("out/.creators.previous")).sorted()
    #expect(previous == ["kept.md", "r2.md"])
    #expect(try fm.contentsOfDirectory(atPath: dir.file("out")).sorted() == [".creators.previous", "creators"])
  }

  /// A file written again is overwritten in place and cut to its new length: it holds exactly
  /// the new bytes, whether they are shorter, longer, as long or empty, and keeps its inode.
  @Test(arguments: [
    ("a longer statement\n", "short\n"), ("short\n", "a longer statement\n"), ("same\n", "SAME\n"),
    ("something\n", ""), ("", "from nothing\n"),
  ])
  func aFileWrittenAgainHoldsExactlyTheNewBytes(before: String, after: String) throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("statement.md")
    try StagingDirectory.writeFile(path, before)
    let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
    try StagingDirectory.writeFile(path, after)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(after.utf8))
    #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode)
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
