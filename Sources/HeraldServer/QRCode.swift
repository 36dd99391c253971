import CQREncode
import Foundation

/// QR codes as SVG, for the authenticator key at enrolment: drawn on the server, so the page
/// needs no script and keeps its CSP.
enum QRCode {
    /// `text` as a QR code (libqrencode, error correction M): one unit square per dark module,
    /// a quiet zone of four; nil when it does not fit in a QR code.
    static func svg(_ text: String) -> String? {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        guard let data = code.pointee.data else { return nil }
        var path = ""
        for y in 0..<width {
            for x in 0..<width where data[y * width + x] & 1 == 1 { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        let size = width + 8
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(size) \(size)" width="\(size * 5)" height="\(size * 5)" \
            role="img" aria-label="QR code" shape-rendering="crispEdges"><rect width="\(size)" height="\(size)" fill="#fff"/>\
            <path d="\(path)" fill="#000"/></svg>
            """
    }
}
