// HTTP/2 limits shared by every server and client of the mesh (connect and grpc-js alike).

/**
 * Memory one HTTP/2 session may use for its streams, in MB. One connection per
 * peer carries all its calls; Node's 10 MB default answers ENHANCE_YOUR_CALM
 * once a few thousand streams are open.
 */
export const H2_SESSION_MEMORY_MB = 1024;
