using MicroApps.Orleans.Pii;

namespace MicroApps.Orleans.UnitTests.Pii;

public sealed class PiiScannerTests
{
    private static readonly PiiScanner Scanner = PiiScanner.Default;

    private static (string Class, string Value)[] Found(string text) =>
        Scanner.Scan(text).Select(f => (f.Class, text.Substring(f.Start, f.Length))).ToArray();

    private static void AssertSingle(string text, string cls, string value) =>
        Assert.Equal([(cls, value)], Found(text));

    // ---- email

    [Theory]
    [InlineData("write to ann.lee@example.com today", "ann.lee@example.com")]
    [InlineData("<j.smith+invoices@fabrikam.io>", "j.smith+invoices@fabrikam.io")]
    [InlineData("mailto:ops@sub.example.co.uk.", "ops@sub.example.co.uk")]
    [InlineData("KEVIN_O'BRIEN@EXAMPLE.NET wrote", "KEVIN_O'BRIEN@EXAMPLE.NET")]
    public void Finds_email_addresses(string text, string value) => AssertSingle(text, PiiClasses.Email, value);

    [Theory]
    [InlineData("asset logo@2x.png is missing")]
    [InlineData("mention @channel and @here")]
    [InlineData("package @scope/pkg@1.2.3")]
    [InlineData("user@localhost has no domain")]
    [InlineData("a..b@example.com")]
    [InlineData("bad@-example.com")]
    public void Ignores_things_that_only_look_like_email(string text) => Assert.Empty(Found(text));

    // ---- phone

    [Theory]
    [InlineData("(415) 555-0132")]
    [InlineData("415-555-0132")]
    [InlineData("415.555.0132")]
    [InlineData("415 555 0132")]
    [InlineData("+1 415 555 0132")]
    [InlineData("+1 (415) 555-0132")]
    [InlineData("1-800-555-0199")]
    [InlineData("1 (800) 555-0175")]
    [InlineData("+1.888.555.0100")]
    [InlineData("+14155550132")]
    [InlineData("+44 20 7946 0958")]
    [InlineData("+44 (0)20 7946 0958")]
    [InlineData("+33 1 23 45 67 89")]
    [InlineData("+33.1.23.45.67.89")]
    [InlineData("+49-89-1234-5678")]
    [InlineData("+55 11 91234-5678")]
    [InlineData("+972 3-123-4567")]
    public void Finds_phone_numbers_in_north_american_and_international_forms(string phone) =>
        AssertSingle($"Call {phone} tomorrow.", PiiClasses.Phone, phone);

    [Theory]
    [InlineData("Tel: 020 7946 0958", "020 7946 0958")]
    [InlineData("call me on 07700 900123 later", "07700 900123")]
    [InlineData("phone: 4155550132", "4155550132")]
    [InlineData("Customer phone (02) 9876 5432 is in Sydney", "(02) 9876 5432")]
    [InlineData("Dial 123-456-7890", "123-456-7890")]      // after a cue the NANP shape rules do not apply
    public void Finds_national_and_unformatted_phone_numbers_after_a_phone_cue(string text, string value) =>
        AssertSingle(text, PiiClasses.Phone, value);

    [Theory]
    [InlineData("Invoice 4155550132 was issued")]         // unformatted, no cue
    [InlineData("Route 020 7946 0958 closed")]             // national form, no cue
    [InlineData("Ref 123-456-7890")]                       // NANP area code cannot start with 1
    [InlineData("Ref 415-155-0132")]                       // NANP exchange cannot start with 1
    [InlineData("Ref 415-555.0132")]                       // mixed separators
    [InlineData("Short number 555-0132")]                  // 7 digits
    [InlineData("+44 20 7946")]                            // 9 digits
    [InlineData("+1 415 555 0132 0132 0132 0132")]         // 22 digits
    [InlineData("call back at 14:30 on 2024-03-15")]
    [InlineData("Order ORD-2024-000123 and 2024-555-0132-7")]
    [InlineData("phone records from 2024-03-15 to 2024-04-15")]
    public void Does_not_report_phone_like_numbers_that_are_not_phones(string text) => Assert.Empty(Found(text));

    // ---- SSN

    [Theory]
    [InlineData("SSN 078-05-1120", "078-05-1120")]
    [InlineData("id 001-01-0001 on file", "001-01-0001")]          // lowest valid area, group, serial
    [InlineData("id 899-99-9999 on file", "899-99-9999")]          // highest valid area
    [InlineData("id 665-12-3456 on file", "665-12-3456")]
    [InlineData("id 667-12-3456 on file", "667-12-3456")]
    [InlineData("SSN: 536221458", "536221458")]
    [InlineData("social security number is 401 33 7812", "401 33 7812")]
    [InlineData("SS# 289-56-7120", "289-56-7120")]
    public void Finds_ssns_that_follow_the_ssa_rules(string text, string value) => AssertSingle(text, PiiClasses.Ssn, value);

    [Theory]
    [InlineData("SSN 000-12-3456")]   // area 000
    [InlineData("SSN 666-12-3456")]   // area 666
    [InlineData("SSN 900-12-3456")]   // area 900-999
    [InlineData("SSN 999-12-3456")]
    [InlineData("SSN 123-00-4567")]   // group 00
    [InlineData("SSN 123-45-0000")]   // serial 0000
    [InlineData("Batch 536221458 closed")]     // bare nine digits without a cue
    [InlineData("Range 401 33 7812 used")]     // spaced form without a cue
    [InlineData("SSN 123-45-67890")]  // part of a longer number
    public void Does_not_report_invalid_or_uncued_ssns(string text) => Assert.Empty(Found(text));

    // ---- payment cards

    [Theory]
    [InlineData("4111 1111 1111 1111")]    // Visa 16
    [InlineData("4222222222222")]          // Visa 13
    [InlineData("4029 7299 7528 8200 189")] // Visa 19
    [InlineData("5555-5555-5555-4444")]    // Mastercard 51-55
    [InlineData("2223 0031 2200 3222")]    // Mastercard 2221-2720
    [InlineData("3782 822463 10005")]      // Amex 4-6-5
    [InlineData("371449635398431")]        // Amex
    [InlineData("6011 1111 1111 1117")]    // Discover 6011
    [InlineData("6443852808414854")]       // Discover 644-649
    [InlineData("3056 930902 5904")]       // Diners 14
    [InlineData("3530111333300000")]       // JCB
    [InlineData("6200000000000005")]       // UnionPay
    public void Finds_luhn_valid_card_numbers_with_known_prefixes(string card) =>
        AssertSingle($"Card {card} on file.", PiiClasses.CardNumber, card);

    [Theory]
    [InlineData("4111 1111 1111 1112")]    // Luhn fails
    [InlineData("5555555555554445")]       // Luhn fails
    [InlineData("3782 822463 10006")]      // Luhn fails
    [InlineData("1234567812345670")]       // Luhn passes, no issuer starts with 1
    [InlineData("9780306406157")]          // ISBN-13
    [InlineData("4111 1111 1111 1111 1111")] // 20 digits
    [InlineData("4111-1111 1111-1111")]    // mixed separators
    [InlineData("37828224631000")]         // Amex prefix with 14 digits
    public void Does_not_report_numbers_that_fail_the_card_checks(string number) =>
        Assert.DoesNotContain(Found($"Number {number} here."), f => f.Class == PiiClasses.CardNumber);

    // ---- IBAN

    [Theory]
    [InlineData("DE89 3704 0044 0532 0130 00")]
    [InlineData("DE89370400440532013000")]
    [InlineData("GB29NWBK60161331926819")]
    [InlineData("FR14 2004 1010 0505 0001 3M02 606")]
    [InlineData("NL91ABNA0417164300")]
    [InlineData("NO97 6068 8310 679")]
    [InlineData("MT92CMSL72200826199582254282116")]
    public void Finds_ibans_with_valid_check_digits(string iban) =>
        AssertSingle($"IBAN {iban}, thanks.", PiiClasses.Iban, iban);

    [Theory]
    [InlineData("DE89 3704 0044 0532 0130 01")] // mod-97 fails
    [InlineData("DE88370400440532013000")]      // check digits wrong
    [InlineData("DE89 3704 0044 0532 0130")]    // too short for DE
    [InlineData("XX89370400440532013000")]      // unknown country
    [InlineData("DE89 37 04 0044 0532 0130 00")] // not grouped in fours
    public void Does_not_report_ibans_that_fail_the_checks(string iban) => Assert.Empty(Found($"IBAN {iban} here"));

    [Fact]
    public void Iban_stops_at_the_country_length_before_a_following_code()
    {
        AssertSingle("Pay DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX now", PiiClasses.Iban, "DE89 3704 0044 0532 0130 00");
    }

    // ---- IP addresses

    [Theory]
    [InlineData("from 192.168.1.24 today", "192.168.1.24")]
    [InlineData("host 0.0.0.0 binds all", "0.0.0.0")]
    [InlineData("mask 255.255.255.255 set", "255.255.255.255")]
    [InlineData("http://10.0.0.5:8080/health", "10.0.0.5")]
    [InlineData("subnet 10.20.0.0/16", "10.20.0.0")]
    [InlineData("v6 2001:db8::1 up", "2001:db8::1")]
    [InlineData("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up", "2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
    [InlineData("mapped ::ffff:192.0.2.128 seen", "::ffff:192.0.2.128")]
    [InlineData("https://[2001:db8::42]:443/", "2001:db8::42")]
    [InlineData("loopback ::1 ok", "::1")]
    public void Finds_ipv4_and_ipv6_addresses(string text, string value) => AssertSingle(text, PiiClasses.IpAddress, value);

    [Theory]
    [InlineData("octet 256.1.1.1")]
    [InlineData("octet 192.168.1.300")]
    [InlineData("build 1.2.3.4.5 failed")]
    [InlineData("package v1.2.3.4")]
    [InlineData("Release 4.2.1.0 is in staging")]
    [InlineData("see section 12.3.4.1")]
    [InlineData("padded 192.168.001.001")]
    [InlineData("MAC 00:1A:2B:3C:4D:5E")]
    [InlineData("time 10:22:33 and ratio 3:2:1")]
    [InlineData("C++ std::vector")]
    [InlineData("dates 15.03.2024 and 2024.03.15")]
    public void Does_not_report_versions_times_and_other_dotted_numbers_as_addresses(string text) => Assert.Empty(Found(text));

    // ---- together

    [Fact]
    public void Findings_are_ordered_and_do_not_overlap()
    {
        const string text = "Ann (ann@example.com, +1 415 555 0132) paid with 4111 1111 1111 1111 from 10.0.0.5; IBAN GB29NWBK60161331926819; SSN 078-05-1120.";
        var found = Found(text);
        Assert.Equal(
            [
                (PiiClasses.Email, "ann@example.com"), (PiiClasses.Phone, "+1 415 555 0132"), (PiiClasses.CardNumber, "4111 1111 1111 1111"),
                (PiiClasses.IpAddress, "10.0.0.5"), (PiiClasses.Iban, "GB29NWBK60161331926819"), (PiiClasses.Ssn, "078-05-1120"),
            ],
            found);
        var findings = Scanner.Scan(text);
        Assert.All(findings.Zip(findings.Skip(1)), pair => Assert.True(pair.First.Start + pair.First.Length <= pair.Second.Start));
    }

    [Fact]
    public void A_card_number_after_a_phone_cue_is_a_card_not_a_phone()
    {
        AssertSingle("call about 4111111111111111", PiiClasses.CardNumber, "4111111111111111");
    }

    [Fact]
    public void A_phone_number_inside_an_email_address_is_part_of_the_email()
    {
        AssertSingle("text 4155550132@txt.example.net", PiiClasses.Email, "4155550132@txt.example.net");
    }

    [Fact]
    public void Redact_replaces_each_finding_with_its_class()
    {
        var redacted = Scanner.Redact("Card 4111 1111 1111 1111, mail ann@example.com, call (415) 555-0132, IBAN DE89 3704 0044 0532 0130 00.");
        Assert.Equal("Card [REDACTED:card_number], mail [REDACTED:email], call [REDACTED:phone], IBAN [REDACTED:iban].", redacted);
    }

    [Fact]
    public void Redact_with_findings_already_made_masks_exactly_those_findings()
    {
        const string text = "mail ann@example.com or call (415) 555-0132";
        var findings = Scanner.Scan(text);
        Assert.Equal("mail [REDACTED:email] or call [REDACTED:phone]", Scanner.Redact(text, findings));
        Assert.Equal("mail [REDACTED:email] or call (415) 555-0132", Scanner.Redact(text, [findings[0]]));
        Assert.Equal([PiiClasses.Email, PiiClasses.Phone], PiiScanner.ClassesOf([findings, findings]));
    }

    [Fact]
    public void Redact_leaves_text_without_pii_unchanged()
    {
        const string text = "Order ORD-2024-000123 shipped on 2024-03-15 for $1,299.00 (v1.2.3).";
        Assert.Same(text, Scanner.Redact(text));
        Assert.Equal("", Scanner.Redact(null));
    }

    [Fact]
    public void Classes_lists_distinct_classes_sorted()
    {
        Assert.Equal(
            [PiiClasses.CardNumber, PiiClasses.Email, PiiClasses.IpAddress],
            Scanner.Classes(["mail a@example.com", null, "from 10.0.0.1 and b@example.com", "card 4111111111111111"]));
    }

    [Theory]
    [InlineData("+", "0123456789", "x")]
    [InlineData("", "1 ", "x")]
    [InlineData("", "a:", "z")]
    [InlineData("a@", "b-", "!")]
    [InlineData("", "1.", "x")]
    public void Long_runs_of_near_matches_scan_without_catastrophic_backtracking(string prefix, string unit, string suffix)
    {
        var text = prefix + string.Concat(Enumerable.Repeat(unit, 5_000)) + suffix;
        Assert.All(Scanner.Scan(text), f => Assert.True(f.Length < 100, $"{f.Class} finding of {f.Length} characters"));
    }

    [Fact]
    public void Empty_and_null_text_have_no_findings()
    {
        Assert.Empty(Scanner.Scan(null));
        Assert.Empty(Scanner.Scan(""));
    }

    [Fact]
    public void Luhn_and_mod97_helpers_agree_with_published_examples()
    {
        Assert.True(PiiScanner.LuhnIsValid([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        Assert.False(PiiScanner.LuhnIsValid([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
        Assert.True(PiiScanner.IbanChecksumIsValid("GB82WEST12345698765432"));
        Assert.False(PiiScanner.IbanChecksumIsValid("GB82WEST12345698765433"));
    }
}
