using Nabla.IO;

namespace Nabla.Tests.IO;

public class UntrustedTests
{
    [Fact]
    public void ShortValuesAreQuotedWhole()
    {
        Assert.Equal("'nabla.training/9'", Untrusted.Quote("nabla.training/9"));
        Assert.Equal("''", Untrusted.Quote(""));
        Assert.Equal("(absent)", Untrusted.Quote(null));
    }

    [Fact]
    public void LongOrMultiLineValuesStayOnOneShortLine()
    {
        string value = string.Concat(Enumerable.Repeat("line\n", 20_000));
        string q = Untrusted.Quote(value);
        Assert.Equal("'" + string.Concat(Enumerable.Repeat("line\\n", 16)) + "…' (100,000 characters)", q);
        Assert.Equal("'a\\u0000b\\r'", Untrusted.Quote("a\0b\r"));
        Assert.Equal("abc… (5 characters)", Untrusted.Excerpt("abcde", 3));
        Assert.Equal("abc", Untrusted.Excerpt("abc", 3));
    }
}
