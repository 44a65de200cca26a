// Custom requests and notifications of the student feature: typed constants, one-line JSDoc saying who sends what to whom.
export {};
