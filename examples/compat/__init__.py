"""Modules written the way cadence-orchestration 0.4's documentation writes them (README: "Coming from
cadence-orchestration"): they load and run here unchanged."""
