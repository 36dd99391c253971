import Foundation
import HeraldCore

/// The delivery timeline of one advisory, as a picture: time across, one row per participant
/// and public channel, a mark for each notice sent, delivered or failing and each time the
/// provider saw, acknowledged or answered, the release instant and now as lines. SVG made on
/// the server: it needs no script, keeps the CSP, and every name in it is escaped. The page
/// shows the same facts as a table beside it.
struct Timeline {
    enum Kind: String, CaseIterable {
        case sent, delivered, failing, seen, acknowledged, answered
    }

    struct Mark {
        var kind: Kind
        var at: Date
        /// What the mark's tooltip adds (the notice, the answer).
        var note: String = ""
    }

    struct Row {
        var label: String
        var marks: [Mark]
    }

    let rows: [Row]
    let instant: Date?
    let now: Date
    /// The words for each kind of mark and for the lines, in the page's language.
    let words: [String: String]
    /// The span shown, worked out once: from the first mark (or now) to the last of the
    /// instant, now and the marks, with a little room either side.
    let span: ClosedRange<Date>

    init(rows: [Row], instant: Date?, now: Date, words: [String: String]) {
        self.rows = rows
        self.instant = instant
        self.now = now
        self.words = words
        var first = min(now, instant ?? now)
        var last = max(now, instant ?? now)
        for row in rows {
            for mark in row.marks {
                first = min(first, mark.at)
                last = max(last, mark.at)
            }
        }
        let margin = max(last.timeIntervalSince(first) * 0.04, 60)
        span = first.addingTimeInterval(-margin)...last.addingTimeInterval(margin)
    }

    static let labelWidth = 230
    static let plotWidth = 640
    static let rowHeight = 20
    static let top = 28

    func x(_ date: Date) -> Double {
        let width = span.upperBound.timeIntervalSince(span.lowerBound)
        return Double(Self.labelWidth) + date.timeIntervalSince(span.lowerBound) / width * Double(Self.plotWidth)
    }

    var svg: String {
        let height = Self.top + rows.count * Self.rowHeight + 24
        let width = Self.labelWidth + Self.plotWidth + 10
        let span = self.span
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 \(width) \(height)" \
            width="100%" role="img" aria-labelledby="timeline-title">\
            <title id="timeline-title">\(XML.escape(words["title"] ?? "Timeline"))</title>
            """
        // Day boundaries in UTC as faint lines, labelled along the top.
        var day = Calendar(identifier: .gregorian)
        day.timeZone = .gmt
        var tick = day.startOfDay(for: span.lowerBound).addingTimeInterval(86_400)
        var ticks = 0
        while tick < span.upperBound && ticks < 60 {
            let position = format(x(tick))
            out +=
                "<line x1=\"\(position)\" y1=\"\(Self.top - 6)\" x2=\"\(position)\" y2=\"\(height - 20)\" stroke=\"#ddd\"/>"
            out +=
                "<text x=\"\(position)\" y=\"\(Self.top - 10)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">"
            out += "\(Instant.utc(tick).prefix(10))</text>"
            tick = tick.addingTimeInterval(86_400)
            ticks += 1
        }
        for (index, row) in rows.enumerated() {
            let y = Self.top + index * Self.rowHeight + Self.rowHeight / 2
            if index % 2 == 0 {
                out +=
                    "<rect x=\"0\" y=\"\(y - Self.rowHeight / 2)\" width=\"\(width)\" height=\"\(Self.rowHeight)\" fill=\"#f4f6f8\"/>"
            }
            let label = row.label.count > 34 ? String(row.label.prefix(33)) + "…" : row.label
            out += "<text x=\"4\" y=\"\(y + 4)\" font-size=\"12\" fill=\"#111\">\(XML.escape(label))</text>"
            for mark in row.marks.sorted(by: { $0.at < $1.at }) {
                out += shape(mark, x: x(mark.at), y: Double(y))
            }
        }
        if let instant {
            out += line(
                at: instant, label: words["instant"] ?? "release", color: "#b00020", height: height, dashed: false)
        }
        out += line(at: now, label: words["now"] ?? "now", color: "#0b5394", height: height, dashed: true)
        return out + "</svg>"
    }

    private func line(at date: Date, label: String, color: String, height: Int, dashed: Bool) -> String {
        let position = format(x(date))
        let dash = dashed ? " stroke-dasharray=\"4 3\"" : ""
        return
            "<line x1=\"\(position)\" y1=\"\(Self.top - 4)\" x2=\"\(position)\" y2=\"\(height - 18)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)><title>\(XML.escape("\(label) \(Instant.utc(date))"))</title></line>"
            + "<text x=\"\(position)\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"middle\" fill=\"\(color)\">\(XML.escape(label))</text>"
    }

    /// Each kind its own shape and colour, so the picture reads in greyscale too.
    private func shape(_ mark: Mark, x: Double, y: Double) -> String {
        let title =
            "<title>\(XML.escape([words[mark.kind.rawValue] ?? mark.kind.rawValue, mark.note, Instant.utc(mark.at)].filter { !$0.isEmpty }.joined(separator: " · ")))</title>"
        let cx = format(x)
        let cy = format(y)
        switch mark.kind {
        case .sent:
            return
                "<circle class=\"mark sent\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"4\" fill=\"#fff\" stroke=\"#555\" stroke-width=\"1.5\">\(title)</circle>"
        case .delivered:
            return
                "<circle class=\"mark delivered\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"4\" fill=\"#2e7d32\">\(title)</circle>"
        case .failing:
            return
                "<path class=\"mark failing\" d=\"M\(format(x - 4)) \(format(y - 4))l8 8m0 -8l-8 8\" stroke=\"#b00020\" stroke-width=\"2.5\">\(title)</path>"
        case .seen:
            return "<path class=\"mark seen\" d=\"M\(cx) \(format(y - 5))l5 9h-10z\" fill=\"#6a1b9a\">\(title)</path>"
        case .acknowledged:
            return
                "<rect class=\"mark acknowledged\" x=\"\(format(x - 4))\" y=\"\(format(y - 4))\" width=\"8\" height=\"8\" fill=\"#0b5394\">\(title)</rect>"
        case .answered:
            return
                "<path class=\"mark answered\" d=\"M\(cx) \(format(y - 6))l6 6l-6 6l-6 -6z\" fill=\"#e65100\">\(title)</path>"
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
