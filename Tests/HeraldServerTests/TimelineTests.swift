import Foundation
import HeraldCore
import Testing

@testable import HeraldServer

/// The delivery timeline picture: every mark where its time puts it, names escaped, and a
/// size that still reads with 200 participants.
@Suite struct TimelineTests {
    let start = Date(timeIntervalSince1970: 1_796_000_000)

    func timeline(rows: [Timeline.Row], instant: Date? = nil) -> Timeline {
        Timeline(rows: rows, instant: instant, now: start.addingTimeInterval(3600), words: ["title": "Timeline"])
    }

    @Test func marksStandWhereTheirTimesAreAndTheInstantIsALine() throws {
        let instant = start.addingTimeInterval(7 * 86_400)
        let picture = timeline(
            rows: [
                .init(
                    label: "Acme",
                    marks: [
                        .init(kind: .sent, at: start), .init(kind: .delivered, at: start.addingTimeInterval(2)),
                        .init(kind: .seen, at: start.addingTimeInterval(600)),
                        .init(kind: .answered, at: start.addingTimeInterval(3000), note: "ready"),
                    ]),
                .init(label: "Beta", marks: [.init(kind: .sent, at: start), .init(kind: .failing, at: start)]),
            ], instant: instant)
        let svg = picture.svg
        #expect(svg.components(separatedBy: "class=\"mark ").count - 1 == 6)
        #expect(svg.contains("class=\"mark failing\"") && svg.contains("ready"))
        // Time runs left to right: sent < seen < now < the instant, inside the plot.
        let xs = [start, start.addingTimeInterval(600), picture.now, instant].map(picture.x)
        #expect(xs == xs.sorted() && Set(xs).count == 4)
        #expect(
            xs.allSatisfy {
                $0 >= Double(Timeline.labelWidth) && $0 <= Double(Timeline.labelWidth + Timeline.plotWidth)
            })
        #expect(svg.contains("stroke=\"#b00020\""), "the instant's line")
    }

    @Test func namesAreEscapedAndLongOnesShortened() {
        let svg = timeline(rows: [
            .init(label: "<script>alert(1)</script> & \"Co\"", marks: []),
            .init(label: String(repeating: "Gemeente ", count: 10), marks: []),
        ]).svg
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"))
        #expect(svg.contains("…"))
    }

    @Test func twoHundredParticipantsGetARowEach() {
        let rows = (0..<200).map { Timeline.Row(label: "Provider \($0)", marks: [.init(kind: .delivered, at: start)]) }
        let svg = timeline(rows: rows).svg
        #expect(svg.components(separatedBy: "class=\"mark delivered\"").count - 1 == 200)
        #expect(svg.contains("viewBox=\"0 0 880 \(Timeline.top + 200 * Timeline.rowHeight + 24)\""))
    }
}
