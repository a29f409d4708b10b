package dev.baton.orchestrator.select;

import dev.baton.orchestrator.topology.NodeObservation;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of ranking candidates for promotion.
 *
 * @param ranked eligible candidates, best first
 * @param rejected every other node with the reason it cannot be promoted
 * @param estimatedLoss how far the chosen candidate is behind the last position seen on the old primary (bytes or
 *     transactions), -1 when unknown
 * @param refusal why no candidate is chosen although some are eligible (for example the lag limit), or null
 */
public record Selection(List<NodeObservation> ranked, List<Rejection> rejected, long estimatedLoss, String refusal) {

    public record Rejection(String node, String reason) {
        @Override
        public String toString() {
            return node + ": " + reason;
        }
    }

    public Optional<NodeObservation> chosen() {
        return refusal == null && !ranked.isEmpty() ? Optional.of(ranked.get(0)) : Optional.empty();
    }

    /** Why there is no candidate, for an operator. */
    public String explain() {
        if (chosen().isPresent()) {
            return "chose " + ranked.get(0).id() + (rejected.isEmpty() ? "" : "; rejected " + rejected);
        }
        if (refusal != null) {
            return refusal;
        }
        return "no eligible candidate" + (rejected.isEmpty() ? "" : ": " + rejected);
    }
}
