// Public surface of this package; filled by its issue.
export {};
