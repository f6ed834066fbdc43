"""mobility: the payment engine for EV charging and mobility-as-a-service."""
