using System.Text.Json;
using Nabla.Data;
using Nabla.IO;

namespace Nabla.Tests.Cli;

/// <summary>
/// A run trained once on the first 800 training and 200 test digits of the bundled sample (so that each resume loads
/// little): 2 epochs of 72 batches of 10; callbacks 0 EarlyStopping, 1 KeepBest, 2 the run writer.
/// </summary>
public sealed class TrainedRun : IDisposable
{
    public TrainedRun()
    {
        string data = Path.Combine(Root, "data");
        Directory.CreateDirectory(data);
        foreach (var (file, n) in new[] { ("train-images-idx3-ubyte.gz", 800), ("train-labels-idx1-ubyte.gz", 800), ("t10k-images-idx3-ubyte.gz", 200), ("t10k-labels-idx1-ubyte.gz", 200) })
        {
            var all = Idx.Read(Path.Combine(Mnist.FindBundledData(), file));
            int per = all.Data.Length / all.Shape[0];
            Idx.Write(Path.Combine(data, file), new IdxArray([n, .. all.Shape[1..]], all.Data[..(n * per)]), gzip: true);
        }
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = Nabla.Cli.Cli.Run(["train", "--data", data, "--runs-dir", Root, "--run", "base", "--epochs", "2", "--hidden", "8", "--batch-size", "10",
            "--val-split", "0.1", "--early-stopping", "2", "--threads", "2", "--plain"], o, e);
        Assert.True(code == 0, e.ToString());
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("nabla-damaged-tests").FullName;

    public string Dir => Path.Combine(Root, "base");

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// `train --resume` on a checkpoint damaged in one field at a time: always one `error:` line naming the problem (no
/// stack trace, no endless run, values quoted only up to 80 characters) and no file of the run changed.
/// </summary>
public sealed class DamagedCheckpointTests(TrainedRun trained) : IClassFixture<TrainedRun>
{
    private static readonly string s_zeroState = string.Join(",", Enumerable.Repeat("0000000000000000", 6));
    private static readonly string s_history = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,1,0.5,1,0.5,0.01,1\n";

    // each damage: "key=value" sets a metadata key, "key" removes it, "tensor:NAME" removes a tensor, "junk" adds 1000
    // long-named model tensors, "run.KEY=value" edits run.json; '|' separates several
    [Theory]
    [InlineData("nabla.format", "no 'nabla.format' metadata")]
    [InlineData("nabla.format=nabla.training/9", "its format is 'nabla.training/9'; this version of Nabla reads 'nabla.training/2' only")]
    [InlineData("nabla.format=nabla-training-checkpoint", "its format is 'nabla-training-checkpoint'")]
    [InlineData("nabla.epoch", "metadata 'nabla.epoch' is missing")]
    [InlineData("nabla.epoch=4294967296", "metadata 'nabla.epoch' is '4294967296', expected an integer from 0 to 2147483647")]
    [InlineData("nabla.epoch=-1", "metadata 'nabla.epoch' is '-1', expected an integer")]
    [InlineData("nabla.epoch=1.5", "metadata 'nabla.epoch' is '1.5', expected an integer")]
    [InlineData("nabla.epoch=2147483647", "'nabla.history' has 2 epoch(s) but 'nabla.epoch' is 2147483647")]
    [InlineData("run.epochs=1", "it is at epoch 2, past the run's 1 epochs")]
    [InlineData("nabla.step=143", "its step 143 is not epoch 2 × 72 batches + 0")]
    [InlineData("nabla.step=x", "metadata 'nabla.step' is 'x', expected an integer")]
    [InlineData("nabla.batch=-3", "metadata 'nabla.batch' is '-3', expected an integer")]
    [InlineData("nabla.batch=73|nabla.partial.seen=730|nabla.partial.loss_sum=5|nabla.step=217|run.epochs=3", "it is 73 batches into epoch 3, but an epoch has 72")]
    [InlineData("nabla.batch=5|nabla.partial.seen=50|nabla.partial.loss_sum=5|nabla.step=149", "it is at epoch 2 and 5 batches, past the run's 2 epochs")]
    [InlineData("nabla.partial.seen=7", "it is at an epoch boundary ('nabla.batch' 0) but its 'nabla.partial.*' sums are not zero")]
    [InlineData("nabla.partial.loss_sum=NaN", "metadata 'nabla.partial.loss_sum' is 'NaN', expected a finite number")]
    [InlineData("nabla.partial.seconds=-1", "metadata 'nabla.partial.seconds' is '-1', expected a finite number ≥ 0")]
    [InlineData("nabla.batch=5|nabla.partial.seen=50|nabla.partial.correct=51|nabla.step=149", "'nabla.partial.correct' (51) is larger than 'nabla.partial.seen' (50)")]
    [InlineData("nabla.batch=5|nabla.partial.seen=3|nabla.step=149", "'nabla.partial.seen' is 3, fewer samples than the 5 batches")]
    [InlineData("nabla.generator.loader", "no generator state 'loader'")]
    [InlineData("nabla.generator.init", "holds no generator 'init'")]
    [InlineData("nabla.generator.loader=zz", "metadata 'nabla.generator.loader' is 'zz', expected 6 comma-separated 16-digit hex words")]
    [InlineData("nabla.generator.default=ZERO", "metadata 'nabla.generator.default' is the all-zero generator state")]
    [InlineData("nabla.generator.extra=0000000000000001,0000000000000002,0000000000000003,0000000000000004,0000000000000000,0000000000000000", "holds a generator 'extra' this trainer does not have")]
    [InlineData("nabla.callback.0.best", "EarlyStopping: the checkpoint state lacks 'best'")]
    [InlineData("nabla.callback.0.wait", "EarlyStopping: the checkpoint state lacks 'wait'")]
    [InlineData("nabla.callback.0.wait=2.5", "EarlyStopping: the checkpoint state 'wait' is 2.5, expected an integer from 0 to 2")]
    [InlineData("nabla.callback.0.wait=99", "EarlyStopping: the checkpoint state 'wait' is 99, expected an integer from 0 to 2")]
    [InlineData("nabla.callback.0.best|nabla.callback.0.wait", "holds no state for callback 0 (EarlyStopping)")]
    [InlineData("nabla.callback.1.best_epoch", "KeepBest: the checkpoint state lacks 'best_epoch'")]
    [InlineData("nabla.callback.1.best=NaN", "KeepBest: the checkpoint state 'best' is NaN")]
    [InlineData("nabla.callback.1.best_epoch=3", "its best epoch 3 lies after its epoch 2")]
    [InlineData("nabla.callback.1.best_epoch=1e10", "KeepBest: the checkpoint state 'best_epoch' is 10000000000, expected an integer")]
    [InlineData("nabla.callback.1.spare=1", "KeepBest: the checkpoint state has an unknown key 'spare'")]
    [InlineData("nabla.callback.5.x=1", "holds state for callback 5 but this trainer has 3 callback(s)")]
    [InlineData("nabla.callback.x.y=1", "metadata key 'nabla.callback.x.y' is not 'nabla.callback.INDEX.NAME'")]
    [InlineData("nabla.callback.0.best=fast", "metadata 'nabla.callback.0.best' is 'fast', expected a number")]
    [InlineData("nabla.history", "holds no metrics history")]
    [InlineData("nabla.history=HISTORY", "'nabla.history' has 1 epoch(s) but 'nabla.epoch' is 2")]
    [InlineData("nabla.history=epoch", "expected the header")]
    [InlineData("nabla.optimizer=Adam", "it was written by a 'Adam' optimizer, this run uses SGD")]
    [InlineData("nabla.optimizer", "it holds optimizer tensors but no 'nabla.optimizer' name")]
    [InlineData("nabla.bogus=1", "unknown metadata key 'nabla.bogus'")]
    [InlineData("tensor:model.0.weight", "missing key '0.weight'")]
    [InlineData("tensor:optimizer.param_groups.0.lr", "param_groups.0.lr")]
    [InlineData("tensor:scheduler.last_epoch", "last_epoch")]
    [InlineData("truncate", "is not a valid safetensors file")]
    [InlineData("junk", "Sequential.LoadStateDict: 1000 problem(s): unexpected key 'xxxxx")]
    public void ResumingADamagedCheckpointFailsWithOneLine(string damage, string expected)
    {
        string dir = Copy(damage);
        var before = Outputs(dir);
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = Nabla.Cli.Cli.Run(["train", "--resume", dir, "--threads", "2", "--plain"], o, e);
        string err = e.ToString();
        Assert.True(code == 1, $"exit {code} for {damage}: {err}{o}");
        Assert.StartsWith("error: ", err);
        Assert.True(err.Contains(expected, StringComparison.Ordinal), err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.True(err.Length < 600, $"{err.Length} characters: {err}");
        foreach (var (name, bytes) in before) Assert.True(bytes.SequenceEqual(File.ReadAllBytes(Path.Combine(dir, name))), $"{name} changed");
    }

    [Fact]
    public void AHugeMultiLineValueIsQuotedOnOneShortLine()
    {
        string value = string.Concat(Enumerable.Repeat("nabla.training/2 but not really\n", 20_000));
        string dir = Copy("nabla.format=" + value);
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.Equal(1, Nabla.Cli.Cli.Run(["train", "--resume", dir, "--threads", "2", "--plain"], o, e));
        string err = e.ToString();
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("its format is 'nabla.training/2 but not really\\nnabla.training/2", err);
        Assert.Contains($"…' ({value.Length:N0} characters)", err);
        Assert.True(err.Length < 300, $"{err.Length} characters");
    }

    [Fact]
    public void TheUndamagedCopyResumes()
    {
        string dir = Copy("");
        var (o, e) = (new StringWriter(), new StringWriter());
        Assert.True(Nabla.Cli.Cli.Run(["train", "--resume", dir, "--threads", "2", "--plain"], o, e) == 0, e.ToString());
        Assert.Contains("resuming", o.ToString());
    }

    private static Dictionary<string, byte[]> Outputs(string dir) =>
        new[] { "model.safetensors", "best.safetensors", "metrics.csv", "checkpoint.safetensors", "run.json" }.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(dir, n)));

    private string Copy(string damage)
    {
        string dir = Path.Combine(trained.Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(trained.Dir).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        string ckpt = Path.Combine(dir, "checkpoint.safetensors");
        if (damage == "truncate")
        {
            var bytes = File.ReadAllBytes(ckpt);
            File.WriteAllBytes(ckpt, bytes[..(bytes.Length / 2)]);
            return dir;
        }
        var file = SafeTensors.Load(ckpt);
        string runJson = Path.Combine(dir, "run.json");
        var run = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(runJson))!;
        foreach (var part in damage.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? part : part[..eq], value = eq < 0 ? "" : part[(eq + 1)..];
            if (key == "junk") for (int i = 0; i < 1000; i++) file.Tensors[$"model.{new string('x', 100)}{i}"] = Tensor.Zeros(1);
            else if (key.StartsWith("tensor:", StringComparison.Ordinal)) Assert.True(file.Tensors.Remove(key["tensor:".Length..]), key);
            else if (key.StartsWith("run.", StringComparison.Ordinal)) run[key["run.".Length..]] = value;
            else if (eq < 0) Assert.True(file.Metadata.Remove(key), key);
            else file.Metadata[key] = value switch { "ZERO" => s_zeroState, "HISTORY" => s_history, _ => value };
        }
        SafeTensors.Save(ckpt, file.Tensors, file.Metadata);
        File.WriteAllText(runJson, JsonSerializer.Serialize(run));
        return dir;
    }
}
