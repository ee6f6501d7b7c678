using System.Text;

namespace Nabla.IO;

/// <summary>
/// Writes files so that a crash, a kill or a full disk leaves either the old content or the new one under the
/// destination's name, never a torn file: the bytes go to a temporary file in the same folder
/// (<c>.NAME.GUID.tmp</c>), which is flushed to disk and then renamed over the destination. Every writer in Nabla
/// that replaces a file goes through here.
/// </summary>
public static class AtomicFile
{
    /// <summary>The suffix of the temporary files this class writes (and <see cref="RemoveOrphans"/> removes).</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Creates or replaces <paramref name="path"/> with what <paramref name="write"/> writes to the stream it is given.
    /// If <paramref name="write"/> throws, the destination is untouched and the temporary file is removed.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names no folder.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"AtomicFile.Write: '{path}' has no folder.", nameof(path));
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { /* best effort: the original exception matters more */ }
            catch (UnauthorizedAccessException) { /* same */ }
            throw;
        }
    }

    /// <summary>Creates or replaces <paramref name="path"/> with <paramref name="bytes"/>, atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Creates or replaces <paramref name="path"/> with <paramref name="text"/> as UTF-8 (no BOM), atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// Removes the temporary files an interrupted <see cref="Write"/> left in <paramref name="directory"/> (a process
    /// killed between creating and renaming one). Call it only where no other process is writing into that folder.
    /// Returns how many were removed.
    /// </summary>
    public static int RemoveOrphans(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory)) return 0;
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(directory, "." + "*" + TempSuffix))
        {
            string name = Path.GetFileName(file);
            // .NAME.GUID.tmp: only files of exactly this shape are ours
            int lastDot = name.Length - TempSuffix.Length;
            int guidDot = name.LastIndexOf('.', lastDot - 1);
            if (guidDot <= 1 || lastDot - guidDot - 1 != 32 || !Guid.TryParseExact(name.AsSpan(guidDot + 1, 32), "N", out _))
                continue;
            try { File.Delete(file); removed++; }
            catch (IOException) { /* in use or gone: leave it */ }
            catch (UnauthorizedAccessException) { /* same */ }
        }

        return removed;
    }
}
