/**
 * The gateway: Aeron UDP ingress and egress, sessions, authentication and authorization, validation of
 * hostile input, and {@link io.keel.gateway.KeelNode}, a whole node assembled.
 */
package io.keel.gateway;
