package main

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
)

// requeue publishes a browsed message again to dte.direct under key, with
// body and without the headers named in drop (nor RabbitMQ's dead-letter
// bookkeeping), and takes the original from its queue once the broker
// confirmed the copy: `dte dead replay` and `dte retry now`. The channel
// must be in confirm mode.
func requeue(ctx context.Context, ch *amqp.Channel, d amqp.Delivery, key string, body []byte, drop ...string) error {
	h := amqp.Table{}
next:
	for k, v := range d.Headers {
		switch k {
		case "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "x-delivery-count":
			continue
		}
		for _, x := range drop {
			if k == x {
				continue next
			}
		}
		h[k] = v
	}
	msg := amqp.Publishing{
		ContentType: d.ContentType, MessageId: d.MessageId, Timestamp: d.Timestamp, Type: d.Type,
		Headers: h, Body: body, DeliveryMode: amqp.Persistent,
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(pctx, bus.ExchangeDirect, key, true, false, msg)
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(pctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("broker refused the copy")
	}
	return d.Ack(false)
}
