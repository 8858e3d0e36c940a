/** The SignalR hub message types (HubProtocol.md), numbered as on the wire. */
export const MessageType = {
    Invocation: 1,
    StreamItem: 2,
    Completion: 3,
    StreamInvocation: 4,
    CancelInvocation: 5,
    Ping: 6,
    Close: 7,
    Ack: 8,
    Sequence: 9,
};
