"""ResNet/ResNeXt that place the blocks by config."""
