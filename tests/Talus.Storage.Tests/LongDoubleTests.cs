using Talus.Storage.Util;

namespace Talus.Storage.Tests;

/// <summary>
/// INCRBYFLOAT arithmetic. Every expected text below is what redis-server 7.0.15 answered to
/// <c>SET x a</c> then <c>INCRBYFLOAT x b</c> (x86-64, where C's long double is the 80-bit x87 format).
/// </summary>
public class LongDoubleTests
{
    [Theory]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData("3.0", "-3", "0")]
    [InlineData("-0", "-0", "0")]
    [InlineData("0", "-0.000000000000000001", "0")]
    [InlineData("0.1", "-0.1", "0")]
    [InlineData("123456789.123456789", "0", "123456789.12345678899873747")]
    [InlineData("0x1p3", "0x.8p1", "9")]
    [InlineData("1e-4950", "0", "0")]
    [InlineData("5.", ".5", "5.5")]
    [InlineData("12345678901234567890", "1", "12345678901234567891")]
    [InlineData("-1.5", "1e-18", "-1.5")]
    [InlineData("2.5", "0.00000000000000001", "2.50000000000000001")]
    [InlineData("-1e400", "1e400", "0")]
    [InlineData("1.7976931348623157e308", "0", "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384")]
    [InlineData("1e400", "1", "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880")]
    public void Sums_print_as_redis_prints_them(string current, string increment, string expected)
    {
        Assert.True(LongDouble.TryParse(Ascii(current), out var a));
        Assert.True(LongDouble.TryParse(Ascii(increment), out var b));
        Assert.True(LongDouble.TryAdd(a, b, out var sum));
        Assert.Equal(expected, sum.ToHumanString());
    }

    [Theory]
    [InlineData("1e4932", "1e4932")] // overflows
    [InlineData("inf", "1")]
    [InlineData("-inf", "inf")]
    public void A_sum_that_is_not_finite_is_refused(string current, string increment)
    {
        Assert.True(LongDouble.TryParse(Ascii(current), out var a));
        Assert.True(LongDouble.TryParse(Ascii(increment), out var b));
        Assert.False(LongDouble.TryAdd(a, b, out _));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1e")]
    [InlineData("1e-5000")] // non-zero, rounds to zero
    [InlineData("1e5000")]  // overflows
    [InlineData("nan")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("1.5\0")]
    [InlineData("--1")]
    public void Texts_redis_refuses_are_not_numbers(string text) =>
        Assert.False(LongDouble.TryParse(Ascii(text), out _));

    private static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);
}
