"""Connected medical devices: the registry, readings from Bluetooth devices and MQTT, remote monitoring."""
