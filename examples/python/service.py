#!/usr/bin/env python3
"""A service answering a page's command over RabbitMQ RPC.

The hub publishes the command envelope to this queue with `reply_to` and `correlation_id`; the
reply (JSON) is the page's result, and an `x-switchboard-error` header refuses the command with
that message.

    AMQP_URL=amqp://guest:guest@localhost:5672 python3 service.py --queue inventory.rpc --count 1
"""
import argparse
import json
import os
import sys

import pika

STOCK = {"tea": 10}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672"))
    parser.add_argument("--queue", default="inventory.rpc")
    parser.add_argument("--count", type=int, default=0, help="exit after this many commands (0: run until stopped)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.queue_declare(args.queue, durable=True)
    print(json.dumps({"ready": args.queue}), flush=True)
    handled = 0
    for method, properties, body in channel.consume(args.queue):
        command = json.loads(body)
        sku, quantity = command["data"]["sku"], command["data"]["quantity"]
        left = STOCK.get(sku, 0)
        if quantity > left:
            reply, headers = b"", {"x-switchboard-error": f"Only {left} of {sku} left."}
        else:
            STOCK[sku] = left - quantity
            reply, headers = json.dumps({"reserved": quantity, "left": STOCK[sku]}).encode(), {}
        channel.basic_publish(
            exchange="",
            routing_key=properties.reply_to,
            body=reply,
            properties=pika.BasicProperties(correlation_id=properties.correlation_id, content_type="application/json", headers=headers),
        )
        channel.basic_ack(method.delivery_tag)
        handled += 1
        if args.count and handled >= args.count:
            break
    channel.cancel()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
