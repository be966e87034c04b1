// Admin pages (/Admin/**). Filled in by the admin features.
export {};
