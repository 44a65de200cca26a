// Custom requests and notifications of the audio feature: typed constants, one-line JSDoc saying who sends what to whom.
export {};
