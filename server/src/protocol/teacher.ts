// Custom requests and notifications of the teacher feature: typed constants, one-line JSDoc saying who sends what to whom.
export {};
