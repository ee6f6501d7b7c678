using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Nabla.Data;

namespace Nabla.Tests.Data;

public sealed class IdxTests : IDisposable
{
    private readonly string _dir;

    public IdxTests()
    {
        _dir = Path.Combine(Path.GetTempPath(), "nabla-idx-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string TempFile(string name) => Path.Combine(_dir, name);

    // ---------- round trips ----------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTrip_UnsignedBytes(bool gzip)
    {
        var data = new byte[3 * 4 * 5];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 37);
        var array = new IdxArray([3, 4, 5], data);
        string path = TempFile(gzip ? "a.gz" : "a.idx");

        Idx.Write(path, array, gzip);
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(gzip, raw[0] == 0x1f && raw[1] == 0x8b);
        if (!gzip)
        {
            Assert.Equal(new byte[] { 0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5 }, raw[..16]);
            Assert.Equal(16 + data.Length, raw.Length);
        }

        IdxArray back = Idx.Read(path);
        Assert.Equal(IdxDataType.UnsignedByte, back.Type);
        Assert.Equal([3, 4, 5], back.Shape);
        Assert.Equal(data, back.Data);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories)); // no temp file left behind
    }

    [Fact]
    public void Gzip_IsDetectedByContent_NotByName()
    {
        var array = new IdxArray([2], [7, 9]);
        string gzNamedRaw = TempFile("looks-compressed.gz");
        string rawNamedGz = TempFile("looks-raw.idx");
        Idx.Write(gzNamedRaw, array, gzip: false);
        Idx.Write(rawNamedGz, array, gzip: true);
        Assert.Equal(array.Data, Idx.Read(gzNamedRaw).Data);
        Assert.Equal(array.Data, Idx.Read(rawNamedGz).Data);
    }

    [Fact]
    public void Write_OverwritesExistingFile()
    {
        string path = TempFile("over.idx");
        Idx.Write(path, new IdxArray([3], [1, 2, 3]), gzip: false);
        Idx.Write(path, new IdxArray([1, 2], [4, 5]), gzip: false);
        IdxArray back = Idx.Read(path);
        Assert.Equal([1, 2], back.Shape);
        Assert.Equal(new byte[] { 4, 5 }, back.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTrip_Single_And_ToSingle(bool gzip)
    {
        float[] values = [0f, -1.5f, 3.25f, float.MaxValue, 1e-30f, 42f];
        string path = TempFile("f.idx");
        Idx.Write(path, IdxArray.FromSingle([2, 3], values), gzip);
        IdxArray back = Idx.Read(path);
        Assert.Equal(IdxDataType.Single, back.Type);
        Assert.Equal([2, 3], back.Shape);
        Assert.Equal(values, back.ToSingle());
    }

    [Fact]
    public void ToSingle_DecodesEveryType()
    {
        Assert.Equal([255f, 0f], new IdxArray(IdxDataType.UnsignedByte, [2], [255, 0]).ToSingle());
        Assert.Equal([-1f, 127f], new IdxArray(IdxDataType.SignedByte, [2], [0xFF, 0x7F]).ToSingle());
        Assert.Equal([-2f, 258f], new IdxArray(IdxDataType.Int16, [2], [0xFF, 0xFE, 0x01, 0x02]).ToSingle());
        Assert.Equal([16909060f], new IdxArray(IdxDataType.Int32, [1], [1, 2, 3, 4]).ToSingle());
        var d = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(d, -0.25);
        Assert.Equal([-0.25f], new IdxArray(IdxDataType.Double, [1], d).ToSingle());
    }

    [Fact]
    public void RoundTrip_EmptyArray_AndNonSeekableStream()
    {
        string path = TempFile("empty.idx");
        Idx.Write(path, new IdxArray([0, 28, 28], []), gzip: false);
        IdxArray back = Idx.Read(path);
        Assert.Equal([0, 28, 28], back.Shape);
        Assert.Empty(back.Data);

        var ms = new MemoryStream();
        Idx.Write(ms, new IdxArray([2, 2], [1, 2, 3, 4]));
        using var pipe = new NonSeekableStream(ms.ToArray());
        IdxArray fromPipe = Idx.Read(pipe);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, fromPipe.Data);
    }

    [Fact]
    public void Constructor_RejectsMismatchedShape()
    {
        Assert.Throws<ArgumentException>(() => new IdxArray([2, 3], new byte[5]));
        Assert.Throws<ArgumentException>(() => new IdxArray([], []));
        Assert.Throws<ArgumentException>(() => new IdxArray([1, 1, 1, 1, 1, 1, 1, 1, 1], new byte[1]));
        Assert.Throws<ArgumentException>(() => new IdxArray([-1], []));
        Assert.Throws<ArgumentException>(() => new IdxArray(IdxDataType.Int32, [2], new byte[4]));
    }

    // ---------- the bundled sample ----------

    [Fact]
    public void BundledSample_LoadsWithExpectedCountsAndAllClasses()
    {
        string dir = BundledDataDir();
        MnistSplit train = Mnist.LoadFolder(dir, train: true);
        MnistSplit test = Mnist.LoadFolder(dir, train: false);

        Assert.Equal(8000, train.Count);
        Assert.Equal(2000, test.Count);
        foreach (MnistSplit split in new[] { train, test })
        {
            Assert.Equal(28, split.Rows);
            Assert.Equal(28, split.Cols);
            Assert.Equal(split.Count * 28 * 28, split.Images.Length);
            Assert.Equal(split.Count, split.Labels.Length);
            Assert.All(split.Labels, l => Assert.InRange(l, 0, 9));
            Assert.All(split.Images, p => Assert.InRange(p, 0f, 1f));
            var counts = new int[10];
            foreach (int l in split.Labels) counts[l]++;
            Assert.All(counts, c => Assert.InRange(c, split.Count / 20, split.Count / 5)); // every class, none dominant
            Assert.True(split.Images.Max() == 1f, "pixels should reach 1.0");
        }

        // The exact per-class counts documented in data/README.md.
        Assert.Equal([801, 902, 793, 826, 784, 690, 811, 856, 755, 782], Histogram(train.Labels));
        Assert.Equal([200, 225, 198, 206, 196, 173, 203, 214, 189, 196], Histogram(test.Labels));
    }

    [Fact]
    public void BundledSample_RawIdxHeaders()
    {
        string dir = BundledDataDir();
        IdxArray images = Idx.Read(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"));
        Assert.Equal(IdxDataType.UnsignedByte, images.Type);
        Assert.Equal([2000, 28, 28], images.Shape);
        IdxArray labels = Idx.Read(Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        Assert.Equal([8000], labels.Shape);
    }

    [Fact]
    public void FindBundledDataFrom_WalksUp()
    {
        string dir = BundledDataDir();
        string repoRoot = Path.GetFullPath(Path.Combine(dir, "..", ".."));
        string deep = Path.Combine(repoRoot, "tests", "Nabla.Tests", "bin", "Debug", "net10.0"); // need not exist
        Assert.Equal(Path.GetFullPath(dir), Mnist.FindBundledDataFrom(deep));
        Assert.Null(Mnist.FindBundledDataFrom(_dir));
    }

    [Fact]
    public void LoadFolder_AcceptsRawFiles_AndChecksCounts()
    {
        Idx.Write(TempFile("t10k-images-idx3-ubyte"), new IdxArray([2, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4]), gzip: false);
        Idx.Write(TempFile("t10k-labels-idx1-ubyte.gz"), new IdxArray([2], [3, 9]), gzip: true);
        MnistSplit split = Mnist.LoadFolder(_dir, train: false);
        Assert.Equal(2, split.Count);
        Assert.Equal([0f, 1f, 0.2f, 0.4f], split.Images[..4]);
        Assert.Equal([3, 9], split.Labels);

        Idx.Write(TempFile("t10k-labels-idx1-ubyte.gz"), new IdxArray([3], [3, 9, 1]), gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Mnist.LoadFolder(_dir, train: false));
        Assert.Contains("2 images", ex.Message);
        Assert.Contains("3 labels", ex.Message);

        var missing = Assert.Throws<FileNotFoundException>(() => Mnist.LoadFolder(_dir, train: true));
        Assert.Contains("train-images-idx3-ubyte", missing.Message);
        Assert.Throws<DirectoryNotFoundException>(() => Mnist.LoadFolder(Path.Combine(_dir, "nope"), train: true));
    }

    [Fact]
    public void LoadLabels_RejectsLabelAboveNine_AndWrongKinds()
    {
        string labels = TempFile("labels.idx");
        Idx.Write(labels, new IdxArray([3], [1, 10, 2]), gzip: false);
        var ex = Assert.Throws<InvalidDataException>(() => Mnist.LoadLabels(labels));
        Assert.Contains(labels, ex.Message);
        Assert.Contains("label 1 is 10", ex.Message);

        string images = TempFile("images.idx");
        Idx.Write(images, new IdxArray([1, 2, 2], new byte[4]), gzip: false);
        Assert.Throws<InvalidDataException>(() => Mnist.LoadLabels(images));
        Assert.Throws<InvalidDataException>(() => Mnist.LoadImages(labels));
    }

    // ---------- errors ----------

    [Fact]
    public void MissingFile_ThrowsFileNotFound_WithPath()
    {
        string path = TempFile("does-not-exist.idx");
        var ex = Assert.Throws<FileNotFoundException>(() => Idx.Read(path));
        Assert.Equal(path, ex.FileName);
        Assert.Contains(path, ex.Message);
        Assert.Throws<FileNotFoundException>(() => Mnist.LoadImages(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_Throws(bool gzip)
    {
        string path = TempFile("trunc.idx");
        byte[] full = Bytes(Header(0x08, 10, 28, 28), new byte[10 * 28 * 28]);
        File.WriteAllBytes(path, Maybe(gzip, full[..(full.Length - 100)]));
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("7840", ex.Message); // the expected size
    }

    [Fact]
    public void TruncatedGzipStream_Throws()
    {
        string path = TempFile("cut.gz");
        var data = new byte[5000];
        new Random(1).NextBytes(data);
        byte[] gz = Gzip(Bytes(Header(0x08, 5000), data));
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void CorruptGzip_Throws_NamingFile()
    {
        string path = TempFile("corrupt.gz");
        byte[] gz = Gzip(Bytes(Header(0x08, 100), new byte[100]));
        for (int i = 10; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        File.WriteAllBytes(path, gz);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0, 0 })]
    [InlineData(new byte[] { 0, 0, 8 })]
    [InlineData(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0 })] // header cut inside the dimensions
    public void TooShortForHeader_Throws(byte[] content)
    {
        string path = TempFile("short.idx");
        File.WriteAllBytes(path, content);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 8, 1 }, "magic")] // first byte not zero
    [InlineData(new byte[] { 0x50, 0x4B, 3, 4 }, "magic")] // a zip file
    [InlineData(new byte[] { 0, 0, 0x0A, 1 }, "magic")] // unknown type code
    [InlineData(new byte[] { 0, 0, 8, 0 }, "rank 0")]
    [InlineData(new byte[] { 0, 0, 8, 9 }, "rank 9")]
    public void BadMagicOrRank_Throws(byte[] magic, string expected)
    {
        foreach (bool gzip in new[] { false, true })
        {
            string path = TempFile(gzip ? "bad.gz" : "bad.idx");
            File.WriteAllBytes(path, Maybe(gzip, Bytes(magic, new byte[64])));
            var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains(expected, ex.Message);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HugeDeclaredDimensions_ThrowWithoutAllocating(bool gzip)
    {
        string path = TempFile("huge.idx");
        // 100000 x 100000 x 100000 = 1e15 bytes declared, 30 bytes present (raw).
        File.WriteAllBytes(path, Maybe(gzip, Bytes(Header(0x08, 100000, 100000, 100000), new byte[14])));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(path, ex.Message);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");

        // 0xFFFFFFFF in one dimension, and eight dimensions whose product overflows 64 bits.
        File.WriteAllBytes(path, Maybe(gzip, Header(0x08, uint.MaxValue)));
        Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        File.WriteAllBytes(path, Maybe(gzip, Header(0x0E, 1u << 30, 1u << 30, 1u << 30, 1u << 30, 1u << 30, 1u << 30, 1u << 30, 1u << 30)));
        Assert.Throws<InvalidDataException>(() => Idx.Read(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LargeButPlausibleDeclaredSize_InTinyFile_FailsWithoutAllocatingIt(bool gzip)
    {
        string path = TempFile("big.idx");
        // Declares 1000 x 1000 x 1000 = 1e9 bytes (a size one array could hold) but only 100 are present.
        File.WriteAllBytes(path, Maybe(gzip, Bytes(Header(0x08, 1000, 1000, 1000), new byte[100])));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("1000000000", ex.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void ZeroDimensionAfterHugeOnes_IsAnEmptyArray()
    {
        string path = TempFile("zero.idx");
        File.WriteAllBytes(path, Header(0x08, 100000, 100000, 100000, 0));
        Assert.Equal([100000, 100000, 100000, 0], Idx.Read(path).Shape);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrailingGarbage_Throws(bool gzip)
    {
        string path = TempFile("trailing.idx");
        File.WriteAllBytes(path, Maybe(gzip, Bytes(Header(0x08, 4), [1, 2, 3, 4, 99])));
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("trailing", ex.Message);
    }

    [Fact]
    public void GarbageAfterGzipMember_Throws()
    {
        string path = TempFile("after.gz");
        File.WriteAllBytes(path, Bytes(Gzip(Bytes(Header(0x08, 4), [1, 2, 3, 4])), [0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void GzipCutInsideItsTrailer_Throws()
    {
        string path = TempFile("trailer.gz");
        byte[] gz = Gzip(Bytes(Header(0x08, 4), [1, 2, 3, 4]));
        File.WriteAllBytes(path, gz[..(gz.Length - 3)]);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Gzip_FromNonSeekableStream_Reads()
    {
        var data = new byte[3000];
        new Random(2).NextBytes(data);
        using var pipe = new NonSeekableStream(Gzip(Bytes(Header(0x08, 3, 1000), data)));
        IdxArray back = Idx.Read(pipe);
        Assert.Equal([3, 1000], back.Shape);
        Assert.Equal(data, back.Data);
    }

    // ---------- helpers ----------

    private static int[] Histogram(int[] labels)
    {
        var counts = new int[10];
        foreach (int l in labels) counts[l]++;
        return counts;
    }

    private static byte[] Header(byte type, params uint[] dims)
    {
        var h = new byte[4 + (4 * dims.Length)];
        h[2] = type;
        h[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4 + (4 * i)), dims[i]);
        return h;
    }

    private static byte[] Bytes(byte[] a, byte[] b) => [.. a, .. b];

    private static byte[] Gzip(byte[] raw)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        return ms.ToArray();
    }

    private static byte[] Maybe(bool gzip, byte[] raw) => gzip ? Gzip(raw) : raw;

    /// <summary>data/mnist-sample of this repository: relative to this source file, else found by walking up.</summary>
    private static string BundledDataDir([CallerFilePath] string thisFile = "")
    {
        // This file is tests/Nabla.Tests/Data/IdxTests.cs; the data is data/mnist-sample at the repository root.
        string? sourceDir = Path.GetDirectoryName(thisFile);
        if (!string.IsNullOrEmpty(sourceDir))
        {
            string fromSource = Path.GetFullPath(Path.Combine(sourceDir, "..", "..", "..", "data", "mnist-sample"));
            if (File.Exists(Path.Combine(fromSource, "train-images-idx3-ubyte.gz")))
            {
                return fromSource;
            }
        }

        return Mnist.FindBundledDataFrom(AppContext.BaseDirectory)
            ?? Mnist.FindBundledDataFrom(Directory.GetCurrentDirectory())
            ?? throw new DirectoryNotFoundException($"data/mnist-sample not found from '{thisFile}', '{AppContext.BaseDirectory}' or the current directory.");
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    }
}
