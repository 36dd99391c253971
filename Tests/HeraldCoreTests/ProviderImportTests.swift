import HeraldCore
import Testing

@Suite struct CSVTests {
    @Test func quotesCommasAndNewlinesInsideFields() throws {
        let records = try CSV.parse("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\n\nlast,row")
        #expect(
            records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["two\nlines", "z"], ["last", "row"]])
        #expect(records.map(\.line) == [1, 2, 3, 6])
    }

    @Test func byteOrderMarkIsIgnored() throws {
        #expect(try CSV.parse("\u{FEFF}a,b\n").first?.fields == ["a", "b"])
    }

    @Test func unclosedQuoteIsRefused() {
        #expect(throws: LineRefusals.self) { try CSV.parse("a,b\n\"open,x\n") }
    }
}

@Suite struct ProviderImportTests {
    @Test func rowsOfOneOrganisationMakeOneProvider() throws {
        let list = try ProviderImport(
            csv: """
                organization,email,project,webhook
                Acme,sec@acme.example,demo,https://acme.example/hook
                acme,noc@acme.example,other,
                Beta,sec@beta.example,demo,
                """)
        #expect(list.entries.count == 2)
        let acme = list.entries[0]
        #expect(acme.provider.organization == "Acme")
        #expect(acme.provider.emails == ["sec@acme.example", "noc@acme.example"])
        #expect(acme.provider.projects == ["demo", "other"])
        #expect(acme.projectLines == ["demo": 2, "other": 3])
        #expect(acme.provider.webhooks.map(\.url) == ["https://acme.example/hook"])
    }

    @Test func everyBadLineIsReportedWithItsNumber() {
        #expect {
            try ProviderImport(
                csv:
                    "organization,email,project\nAcme,not-an-address,demo\nBeta,b@beta.example,demo\nGamma,g@gamma.example,Bad Slug\nDelta,d@delta.example\n"
            )
        } throws: { error in
            guard let refusals = error as? LineRefusals else { return false }
            return refusals.problems.map(\.line) == [2, 4, 5] && refusals.description.contains("line 2: email")
        }
    }

    @Test func aWrongHeaderIsRefused() {
        #expect(throws: LineRefusals.self) { try ProviderImport(csv: "org,mail,project\nAcme,a@acme.example,demo\n") }
        #expect(throws: LineRefusals.self) { try ProviderImport(csv: "") }
        #expect(throws: LineRefusals.self) { try ProviderImport(csv: "organization,email,project\n") }
    }

    @Test func tenThousandRowsParseQuickly() throws {
        var text = "organization,email,project\n"
        for i in 0..<10_000 { text += "Org \(i / 2),contact\(i)@org\(i / 2).example,demo\n" }
        let start = ContinuousClock.now
        let list = try ProviderImport(csv: text)
        #expect(list.entries.count == 5_000)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aSeparatorLineEndedByCRLFAsABrowserSendsIt() throws {
        // A form's textarea arrives with CR LF line ends; "\r\n" is one Character in Swift.
        let list = try ProviderImport(csv: "sep=;\r\norganization;email;project\r\nAcme;a@acme.example;demo\r\n")
        #expect(list.entries.map(\.provider.organization) == ["Acme"])
        #expect(list.entries.first?.line == 3)
    }
}
