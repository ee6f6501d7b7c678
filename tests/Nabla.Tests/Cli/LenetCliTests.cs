using System.Globalization;
using System.Text.RegularExpressions;

namespace Nabla.Tests.Cli;

public class LenetCliTests
{
    [Fact]
    public void LenetPresetLearnsInOneEpoch()
    {
        // a tiny budget: one epoch (the full 20-epoch recipe reaching ≥ 98% is a CLI run quoted in the issue notes)
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(["train", "--model", "lenet", "--epochs", "1", "--threads", "2"], o, e);
        Assert.True(code == 0, e.ToString());
        var m = Regex.Match(o.ToString(), @"test accuracy: ([0-9.]+)%");
        Assert.True(m.Success, o.ToString());
        Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) > 60, o.ToString());
    }
}
