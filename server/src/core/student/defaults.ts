/** Training defaults, apart from the trainer so that the CLI's usage text does not load it. */
export const DEFAULT_SEED = 42;
export const DEFAULT_EPOCHS = 10;
export const DEFAULT_HELDOUT = 0.2;
export const DEFAULT_CALIBRATION_FOLDS = 5;
