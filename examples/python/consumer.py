#!/usr/bin/env python3
"""Consumes events Switchboard publishes to RabbitMQ (egress): here, events pages caused.

Each message is an envelope (JSON); `message_id` is the envelope id and the `x-switchboard-offset`
header its place in the topic, so a consumer deduplicates redeliveries by id. Prints one JSON line
per new event; acknowledges after handling.

    AMQP_URL=amqp://guest:guest@localhost:5672 python3 consumer.py --binding 'cart.#' --count 1
"""
import argparse
import json
import os
import sys

import pika


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672"))
    parser.add_argument("--exchange", default="switchboard.events")
    parser.add_argument("--queue", default="python-consumer")
    parser.add_argument("--binding", default="#", help="routing key pattern: event types, e.g. 'cart.*'")
    parser.add_argument("--count", type=int, default=0, help="exit after this many events (0: run until stopped)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.exchange_declare(args.exchange, exchange_type="topic", durable=True)
    channel.queue_declare(args.queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(args.queue, args.exchange, routing_key=args.binding)
    channel.basic_qos(prefetch_count=10)
    print(json.dumps({"ready": args.queue}), flush=True)

    seen = set()
    handled = 0
    for method, properties, body in channel.consume(args.queue):
        event = json.loads(body)
        if properties.message_id not in seen:  # a redelivery of an event already handled
            seen.add(properties.message_id)
            offset = (properties.headers or {}).get("x-switchboard-offset")
            print(json.dumps({"id": event["id"], "type": event["type"], "data": event["data"], "offset": offset}), flush=True)
            handled += 1
        channel.basic_ack(method.delivery_tag)
        if args.count and handled >= args.count:
            break
    channel.cancel()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
