module github.com/dtecl/pipeline/functions/enqueue

go 1.26.0

require github.com/dtecl/pipeline/shared v0.0.0

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/cloudevents/sdk-go/v2 v2.16.2 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/rabbitmq/amqp091-go v1.16.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.27.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	software.sslmate.com/src/go-pkcs12 v0.7.4 // indirect
)

// shared is not published: the repository's own copy, also in the image
// builds (the root Dockerfile copies shared/ beside functions/).
replace github.com/dtecl/pipeline/shared => ../../shared
