"""SMS gateways: the provider adapters the sender talks to, and a local simulator of Twilio."""
