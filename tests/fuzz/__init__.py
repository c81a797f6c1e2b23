"""The fuzz harness: properties every input must have, and the strategies that draw inputs."""
