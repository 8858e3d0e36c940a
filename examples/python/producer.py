#!/usr/bin/env python3
"""Publishes one event to RabbitMQ that Switchboard pages show.

The hub binds the exchange to a topic (an ingest binding); this script only speaks AMQP. The event
goes as a CloudEvent in binary mode: its attributes as `cloudEvents_*` headers, its data as the
JSON body. Publisher confirms make the broker say it has the message before the script exits.

    AMQP_URL=amqp://guest:guest@localhost:5672 python3 producer.py --sku tea --available 3
"""
import argparse
import json
import os
import sys
import uuid

import pika


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672"))
    parser.add_argument("--exchange", default="inventory")
    parser.add_argument("--sku", required=True)
    parser.add_argument("--available", type=int, required=True)
    parser.add_argument("--id", default=None, help="the event id (a new UUID by default); resending one id is stored once")
    args = parser.parse_args()

    event_id = args.id or str(uuid.uuid4())
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        channel.exchange_declare(args.exchange, exchange_type="topic", durable=True)
        channel.confirm_delivery()
        channel.basic_publish(
            exchange=args.exchange,
            routing_key="stock.changed",
            body=json.dumps({"sku": args.sku, "available": args.available}).encode(),
            properties=pika.BasicProperties(
                content_type="application/json",
                delivery_mode=2,  # persistent
                message_id=event_id,
                headers={
                    "cloudEvents_specversion": "1.0",
                    "cloudEvents_id": event_id,
                    "cloudEvents_source": "service:python-inventory",
                    "cloudEvents_type": "stock.changed",
                },
            ),
            mandatory=True,
        )
    finally:
        connection.close()
    print(json.dumps({"published": event_id}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
