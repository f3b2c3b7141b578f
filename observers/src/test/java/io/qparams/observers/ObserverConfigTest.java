package io.qparams.observers;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObserverConfigTest {

    private final ObserverConfig config =
            new ObserverConfig(
                    NonFinitePolicy.REJECT,
                    List.of(
                            new ObserverConfig.Rule(
                                    "*.weight",
                                    ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                                            .build()),
                            new ObserverConfig.Rule(
                                    "encoder.layer.?.output",
                                    ObserverSpec.builder(ObserverKind.MinMaxObserver).build()),
                            new ObserverConfig.Rule(
                                    "*",
                                    ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                                            .build())));

    @Test
    void firstMatchingRuleWins() {
        assertEquals(0, config.ruleIndexFor("encoder.layer.0.weight"));
        assertEquals(1, config.ruleIndexFor("encoder.layer.3.output"));
        assertEquals(2, config.ruleIndexFor("encoder.layer.10.output"));
        assertEquals(
                ObserverKind.MovingAverageMinMaxObserver,
                config.observerFor("anything").spec().kind());
    }

    @Test
    void globCharactersOtherThanStarAndQuestionMarkAreLiteral() {
        ObserverConfig.Rule rule =
                new ObserverConfig.Rule(
                        "a.b[0]+(c)", ObserverSpec.builder(ObserverKind.MinMaxObserver).build());
        assertTrue(rule.matches("a.b[0]+(c)"));
        assertFalse(rule.matches("aXb[0]+(c)"));
    }

    @Test
    void aTensorNoRuleMatchesHasNoObserver() {
        ObserverConfig narrow =
                new ObserverConfig(
                        NonFinitePolicy.REJECT,
                        List.of(
                                new ObserverConfig.Rule(
                                        "conv*",
                                        ObserverSpec.builder(ObserverKind.MinMaxObserver)
                                                .build())));
        assertNull(narrow.observerFor("fc1"));
        assertEquals(-1, narrow.ruleIndexFor("fc1"));
    }
}
