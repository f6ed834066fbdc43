"""The simulated city: sites, chargers, drivers and fleets driving the engine from outside."""
