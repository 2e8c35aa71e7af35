using Talus.Storage.Util;

namespace Talus.Storage.Tests;

/// <summary>Acceptance of score arguments and range bounds, checked case by case against redis-server 7.0.</summary>
public class StrtodTests
{
    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("-2.5", -2.5)]
    [InlineData("+1.5", 1.5)]
    [InlineData(".5", 0.5)]
    [InlineData("5.", 5.0)]
    [InlineData("1E2", 100.0)]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData("-Infinity", double.NegativeInfinity)]
    [InlineData("0x10", 16.0)]
    [InlineData("0X1.8P3", 12.0)]
    [InlineData("0x1p-2", 0.25)]
    [InlineData("1e-310", 1e-310)]
    [InlineData("4.9e-324", 4.9e-324)]
    [InlineData("0.1", 0.1)]
    public void Strict_accepts(string text, double expected)
    {
        Assert.True(Strtod.TryParseStrict(System.Text.Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("1e400")]
    [InlineData("1e-400")]
    [InlineData("1e")]
    [InlineData("0x")]
    [InlineData("--1")]
    [InlineData("abc")]
    [InlineData("(1")]
    public void Strict_refuses(string text) => Assert.False(Strtod.TryParseStrict(System.Text.Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("", 0.0)]
    [InlineData(" 16", 16.0)]
    [InlineData("1e999", double.PositiveInfinity)]
    [InlineData("1e-400", 0.0)]
    [InlineData("-inf", double.NegativeInfinity)]
    public void Range_bounds_accept_what_strtod_converts_to_the_end(string text, double expected)
    {
        Assert.True(Strtod.TryParseRangeBound(System.Text.Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("1 ")]
    [InlineData("   ")]
    [InlineData("nan")]
    [InlineData("(1")]
    public void Range_bounds_refuse(string text) => Assert.False(Strtod.TryParseRangeBound(System.Text.Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void A_range_bound_ends_at_the_first_nul_as_a_c_string_does() =>
        Assert.True(Strtod.TryParseRangeBound("1\0junk"u8, out var value) && value == 1);

    [Fact]
    public void Hex_floats_round_to_nearest_even()
    {
        // 2^53 + 1 is not representable: ties go to the even neighbour 2^53.
        Assert.True(Strtod.TryParseStrict("0x20000000000001"u8, out var value));
        Assert.Equal(9007199254740992.0, value);
        Assert.True(Strtod.TryParseStrict("0x20000000000003"u8, out value));
        Assert.Equal(9007199254740996.0, value);
    }
}
