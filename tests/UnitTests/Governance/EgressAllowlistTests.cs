using MicroApps.Orleans.Governance;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class EgressAllowlistTests
{
    private static readonly EgressAllowlist List = new(["api.example.com", "*.corp.example.org", "10.0.0.5", "2001:db8::1", "Files.Example.NET."]);

    [Theory]
    [InlineData("api.example.com")]
    [InlineData("API.Example.COM")]
    [InlineData("api.example.com.")]
    [InlineData("files.example.net")]
    [InlineData("hr.corp.example.org")]
    [InlineData("a.b.c.corp.example.org")]
    [InlineData("10.0.0.5")]
    [InlineData("2001:db8::1")]
    [InlineData("[2001:db8:0:0::1]")]
    public void Allows_listed_hosts_case_insensitively_and_wildcard_subdomains_at_any_depth(string host) =>
        Assert.True(List.Allows(host), host);

    [Theory]
    [InlineData("example.com")]
    [InlineData("evil-api.example.com")]
    [InlineData("api.example.com.evil.net")]
    [InlineData("corp.example.org")]
    [InlineData("xcorp.example.org")]
    [InlineData("10.0.0.6")]
    [InlineData("2001:db8::2")]
    [InlineData("")]
    public void Refuses_hosts_not_on_the_list(string host) =>
        Assert.False(List.Allows(host), host);

    [Fact]
    public void Wildcard_does_not_match_the_apex_and_says_so()
    {
        var (allowed, reason) = List.Check("corp.example.org");
        Assert.False(allowed);
        Assert.Equal("host corp.example.org is not on the allowlist (*.corp.example.org covers its sub-domains, not the domain itself)", reason);
    }

    [Fact]
    public void Check_names_the_entry_that_matched()
    {
        Assert.Equal((true, "host hr.corp.example.org matches *.corp.example.org"), List.Check("HR.corp.example.org"));
        Assert.Equal((true, "host api.example.com is on the allowlist"), List.Check("api.example.com."));
        Assert.Equal((false, "host other.example.com is not on the allowlist"), List.Check("other.example.com"));
    }

    [Theory]
    [InlineData("https://api.example.com/v1/items", true)]
    [InlineData("http://api.example.com:8080/", true)]
    [InlineData("https://x.corp.example.org/", true)]
    [InlineData("https://[2001:db8::1]/", true)]
    [InlineData("https://10.0.0.5/path", true)]
    [InlineData("ftp://api.example.com/file", false)]
    [InlineData("https://example.com/", false)]
    [InlineData("https://api.example.com.evil.net/", false)]
    public void Allows_uri_only_for_absolute_http_and_https(string url, bool expected) =>
        Assert.Equal(expected, List.Allows(new Uri(url)));

    [Fact]
    public void Allows_uri_refuses_relative_uris() =>
        Assert.False(List.Allows(new Uri("/v1/items", UriKind.Relative)));

    [Fact]
    public void Wildcards_never_match_ip_addresses()
    {
        var list = new EgressAllowlist(["*.0.0.10.in-addr.arpa", "*.example.com"]);
        Assert.False(list.Allows("10.0.0.1"));
        Assert.True(list.Allows("a.example.com"));
    }

    [Fact]
    public void Invalid_entries_match_nothing()
    {
        var list = new EgressAllowlist(["https://api.example.com/", "*", "api.*.com"]);
        Assert.False(list.Allows("api.example.com"));
        Assert.False(list.Allows("anything.com"));
        Assert.False(list.Allows("api.x.com"));
    }

    [Fact]
    public void Internationalised_names_match_their_punycode_form()
    {
        var list = new EgressAllowlist(["bücher.example"]);
        Assert.True(list.Allows("xn--bcher-kva.example"));
        Assert.True(list.Allows(new Uri("https://BÜCHER.example/")));
    }

    [Theory]
    [InlineData("api.example.com")]
    [InlineData("*.example.com")]
    [InlineData("Api.Example.com.")]
    [InlineData("localhost")]
    [InlineData("10.0.0.5")]
    [InlineData("2001:db8::1")]
    [InlineData("[::1]")]
    [InlineData("my-host-01.internal")]
    public void ValidateEntry_accepts_hosts_wildcards_and_ip_literals(string entry) =>
        Assert.Null(EgressAllowlist.ValidateEntry(entry));

    [Theory]
    [InlineData("", "an entry must name a host")]
    [InlineData("https://api.example.com", "is a URL")]
    [InlineData("api.example.com/v1", "has a path")]
    [InlineData("api.example.com:443", "has a port")]
    [InlineData("10.0.0.5:8080", "has a port")]
    [InlineData("user@api.example.com", "user information")]
    [InlineData("*", "'*' alone would allow every host")]
    [InlineData("api.*.com", "wildcard that is not the whole leading label")]
    [InlineData("*api.example.com", "wildcard that is not the whole leading label")]
    [InlineData("*.*.example.com", "wildcard that is not the whole leading label")]
    [InlineData("*.com", "whole top-level domain")]
    [InlineData("api..example.com", "empty or over-long label")]
    [InlineData("-api.example.com", "not a host-name label")]
    [InlineData("api_x.example.com", "not a host-name label")]
    [InlineData("api example.com", "white space")]
    [InlineData("10.0.0.256", "not a valid one")]
    public void ValidateEntry_names_what_is_wrong(string entry, string expected)
    {
        var error = EgressAllowlist.ValidateEntry(entry);
        Assert.NotNull(error);
        Assert.Contains(expected, error);
    }
}
