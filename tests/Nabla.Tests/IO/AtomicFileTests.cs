using Nabla.IO;

namespace Nabla.Tests.IO;

public class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AFailingWriterLeavesTheOldContentAndNoTemporaryFile()
    {
        string path = Path.Combine(_dir, "a.txt");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("new, half written"u8);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["a.txt"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void ReplacesTheContent()
    {
        string path = Path.Combine(_dir, "b.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        AtomicFile.WriteAllBytes(path, [4, 5]);
        Assert.Equal([4, 5], File.ReadAllBytes(path));
    }

    [Fact]
    public void RemoveOrphansRemovesOnlyItsOwnTemporaryFiles()
    {
        string orphan = Path.Combine(_dir, $".model.safetensors.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(orphan, "torn");
        string user = Path.Combine(_dir, ".notes.tmp"); // a user's file that only looks similar
        File.WriteAllText(user, "keep");
        File.WriteAllText(Path.Combine(_dir, "model.safetensors"), "keep");
        Assert.Equal(1, AtomicFile.RemoveOrphans(_dir));
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(user));
        Assert.Equal(0, AtomicFile.RemoveOrphans(Path.Combine(_dir, "missing")));
    }
}
