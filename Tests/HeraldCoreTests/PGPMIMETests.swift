import Foundation
import HeraldCore
import Testing

@Suite struct PGPMIMETests {
    let message = Array(
        EmailMessage(
            from: "security@herald.example", fromName: "Herald", to: "ops@acme.example",
            subject: "[EMBARGOED] Open Zaak: Beveiligingsadvies – heap overflow in de parser met een lange titel",
            text: "Details æøå\n", messageID: "m1@herald.example", date: Date(timeIntervalSince1970: 1_795_000_000),
            extraHeaders: [("List-Id", "Open Zaak early notice <oz.early-notice.herald.example>")]
        ).rendered.utf8)

    @Test func theInnerPartCarriesTheRealHeadersAndTheBody() {
        let inner = String(decoding: PGPMIME.innerPart(of: message), as: UTF8.self)
        #expect(inner.hasPrefix("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\n"))
        #expect(inner.contains("Content-Transfer-Encoding: quoted-printable\r\n"))
        // The subject is folded and encoded; its continuation lines come with it.
        #expect(inner.contains("Subject: =?UTF-8?B?"))
        #expect(inner.contains("\r\n =?UTF-8?B?"))
        #expect(inner.contains("To: ops@acme.example\r\n"))
        #expect(!inner.contains("List-Id"))
        #expect(inner.hasSuffix("\r\n\r\nDetails =C3=A6=C3=B8=C3=A5\r\n"))
    }

    @Test func theOuterMessageSaysNothingOfTheAdvisory() {
        let armored = Array("-----BEGIN PGP MESSAGE-----\nabc\n-----END PGP MESSAGE-----\n".utf8)
        let outer = String(
            decoding: PGPMIME.encrypted(
                message, armored: armored, outerSubject: "[Open Zaak] Private security notice", boundary: "b1"),
            as: UTF8.self)
        let headers = outer.components(separatedBy: "\r\n\r\n")[0]
        #expect(headers.contains("Subject: [Open Zaak] Private security notice"))
        #expect(!headers.contains("UTF-8?B?"))
        #expect(headers.contains("List-Id: Open Zaak early notice"))
        #expect(headers.contains("Message-ID: <m1@herald.example>"))
        #expect(headers.contains("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\""))
        #expect(!headers.contains("text/plain") && !headers.contains("quoted-printable"))
        #expect(headers.components(separatedBy: "MIME-Version").count == 2)
        // The armor's line ends become CRLF; the closing boundary ends the message.
        #expect(outer.contains("-----BEGIN PGP MESSAGE-----\r\nabc\r\n-----END PGP MESSAGE-----\r\n"))
        #expect(outer.hasSuffix("\r\n--b1--\r\n"))
        #expect(outer.contains("--b1\r\nContent-Type: application/pgp-encrypted\r\n"))
        #expect(outer.contains("Version: 1\r\n"))
    }
}

@Suite struct PGPMIMESignedTests {
    @Test func theSignedEntityIsExactlyThePartBetweenTheBoundaries() {
        let message = Array(
            EmailMessage(
                from: "security@herald.example", fromName: "Herald", to: "announce@lists.example",
                subject: "Open Zaak: advisory published", text: "Details æøå\n", messageID: "m2@herald.example",
                date: Date(timeIntervalSince1970: 1_795_000_000)
            ).rendered.utf8)
        let entity = PGPMIME.signedEntity(of: message)
        let signed = PGPMIME.signed(
            message, signature: Array("-----BEGIN PGP SIGNATURE-----\nx\n".utf8), boundary: "b2")
        let text = String(decoding: signed, as: UTF8.self)
        #expect(
            text.contains(
                "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n protocol=\"application/pgp-signature\""))
        #expect(text.contains("Subject: Open Zaak: advisory published\r\n"))
        // What a verifier takes: after "--b2" CRLF, up to the CRLF before the next "--b2".
        let opening = text.range(of: "--b2\r\n")!
        let closing = text.range(of: "\r\n--b2\r\n", range: opening.upperBound..<text.endIndex)!
        let part = text[opening.upperBound..<closing.lowerBound]
        #expect(Array(part.utf8) == entity)
        #expect(String(decoding: entity, as: UTF8.self).hasPrefix("Content-Type: text/plain; charset=utf-8\r\n"))
        #expect(text.hasSuffix("\r\n--b2--\r\n"))
    }
}

@Suite struct QuotedPrintableFromTests {
    @Test func fromAtTheStartOfALineIsEncodedSoMboxCannotChangeIt() {
        let message = EmailMessage(
            from: "a@example.org", fromName: "", to: "b@example.org", subject: "s",
            text: "From the release managers\nSee: From here\nFrom\n", messageID: "m@example.org",
            date: Date(timeIntervalSince1970: 0)
        ).rendered
        let body = message.components(separatedBy: "\r\n\r\n")[1]
        #expect(body == "=46rom the release managers\r\nSee: From here\r\nFrom\r\n")
    }
}
