"""The deploy of one environment, in the order a first deploy needs: the images stack, the images
(checked, never pushed here), then the environment. `infrakit deploy --env ENV`."""
