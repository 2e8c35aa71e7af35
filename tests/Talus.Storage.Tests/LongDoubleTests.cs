using Talus.Storage.Util;

namespace Talus.Storage.Tests;

/// <summary>Expected texts are what redis-server 7.0.15 answers to HINCRBYFLOAT on a fresh field (then on the result).</summary>
public class LongDoubleTests
{
    private static string Sum(params string[] operands)
    {
        var total = LongDouble.Zero;
        foreach (var operand in operands)
        {
            Assert.True(LongDouble.TryParse(System.Text.Encoding.ASCII.GetBytes(operand), out var value), operand);
            total += value;
        }
        return total.ToString();
    }

    [Theory]
    [InlineData("0.3", "0.1", "0.2")]
    [InlineData("1.5", "1.5")]
    [InlineData("0", "1500", "-1500")]
    [InlineData("16", "0x10")]
    [InlineData("0.125", "0x1p-3")]
    [InlineData("1500", "1.5e3")]
    [InlineData("0", "-1e-30")]
    [InlineData("0", "1e-4940")]
    [InlineData("0.00000381469726562", "0.000003814697265625")]
    [InlineData("1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144", "1e300")]
    public void Sums_print_as_redis_prints_them(string expected, params string[] operands) =>
        Assert.Equal(expected, Sum(operands));

    [Fact]
    public void A_value_beyond_double_range_parses_and_adds() =>
        Assert.Equal("10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880", Sum("0x10", "1e400"));

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("abc")]
    [InlineData("nan")]
    [InlineData("1e5000")]
    [InlineData("1e-5000")]
    [InlineData("1e")]
    [InlineData(".")]
    [InlineData("0x")]
    [InlineData("--1")]
    public void Texts_that_string2ld_refuses_are_refused(string text) =>
        Assert.False(LongDouble.TryParse(System.Text.Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    public void Infinity_parses_but_is_not_finite(string text)
    {
        Assert.True(LongDouble.TryParse(System.Text.Encoding.ASCII.GetBytes(text), out var value));
        Assert.False(value.IsFinite);
    }

    [Fact]
    public void Integers_convert_exactly()
    {
        Assert.Equal("9223372036854775807", LongDouble.FromLong(long.MaxValue).ToString());
        Assert.Equal("-9223372036854775808", LongDouble.FromLong(long.MinValue).ToString());
    }
}
