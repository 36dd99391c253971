import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not been read whole within `deadline` of its head:
/// the idle timeout before it restarts with every byte, so a body sent a byte every few
/// seconds (slowloris on the body) would otherwise hold the connection open without end.
/// Bodies here are at most a few MiB; an honest client sends one in well under the deadline.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let deadline: TimeAmount
    private var timer: Scheduled<Void>?
    /// A request's head has been read and its end not yet.
    private var reading = false

    init(deadline: TimeAmount) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            cancel()
            reading = true
        case .end:
            cancel()
            reading = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    /// The deadline starts when a read ends with a request still incomplete. A request read
    /// whole in one read (nearly every GET) never needs a timer: scheduling and cancelling
    /// one per request cost a feed under load a share of its rate.
    func channelReadComplete(context: ChannelHandlerContext) {
        if reading && timer == nil {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(in: deadline) { loopBound.value.close(promise: nil) }
        }
        context.fireChannelReadComplete()
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }
}
