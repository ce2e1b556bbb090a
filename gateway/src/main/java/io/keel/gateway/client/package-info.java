/**
 * The Keel client library: {@link io.keel.gateway.client.KeelClient}.
 */
package io.keel.gateway.client;
