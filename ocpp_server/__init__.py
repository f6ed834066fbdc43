"""ocpp_server: the OCPP central system; the only package that speaks OCPP."""
