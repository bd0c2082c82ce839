"""Code written for cadence-orchestration 0.4.x: its documented imports load here and do what they say."""
