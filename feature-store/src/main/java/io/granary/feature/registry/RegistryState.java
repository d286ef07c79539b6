package io.granary.feature.registry;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The registry at one generation: what each name means now. Immutable, so a server can swap in a
 * new one while requests read the old.
 */
public record RegistryState(long generation, Map<String, Versioned<Entity>> entities,
                            Map<String, Versioned<FeatureView>> featureViews,
                            Map<String, Versioned<FeatureService>> featureServices) {

    public RegistryState {
        entities = Map.copyOf(entities);
        featureViews = Map.copyOf(featureViews);
        featureServices = Map.copyOf(featureServices);
    }

    public static RegistryState empty() {
        return new RegistryState(0, Map.of(), Map.of(), Map.of());
    }

    public Entity entity(String name) {
        Versioned<Entity> entity = entities.get(name);
        if (entity == null) {
            throw GranaryException.notFound("unknown entity '" + name + "'", known("entities", entities));
        }
        return entity.value();
    }

    public FeatureView featureView(String name) {
        Versioned<FeatureView> view = featureViews.get(name);
        if (view == null) {
            throw GranaryException.notFound("unknown feature view '" + name + "'", known("feature views", featureViews));
        }
        return view.value();
    }

    public FeatureService featureService(String name) {
        Versioned<FeatureService> service = featureServices.get(name);
        if (service == null) {
            throw GranaryException.notFound("unknown feature service '" + name + "'", known("feature services", featureServices));
        }
        return service.value();
    }

    private static String known(String what, Map<String, ?> names) {
        return names.isEmpty() ? "no " + what + " are registered: run `granary feature apply FILE.yaml`"
                : "registered " + what + ": " + String.join(", ", new TreeMap<>(names).keySet());
    }

    /** The join key columns of a view, in the order of its entities. */
    public List<String> joinKeys(FeatureView view) {
        return view.entities().stream().map(name -> entity(name).joinKey()).toList();
    }

    /** Checks "view:feature" references against the registry; unknown views and features fail, named. */
    public List<FeatureRef> resolve(List<String> references) {
        if (references.isEmpty()) {
            throw new GranaryException("no features requested", "name features as VIEW:FEATURE, or a feature service");
        }
        List<FeatureRef> resolved = new ArrayList<>();
        for (String reference : references) {
            FeatureRef ref = FeatureRef.parse(reference);
            FeatureView view = featureView(ref.view());
            if (view.feature(ref.feature()).isEmpty()) {
                throw GranaryException.notFound("unknown feature '" + ref + "'",
                        "features of " + view.name() + ": " + String.join(", ", view.featureNames()));
            }
            resolved.add(ref);
        }
        return resolved;
    }

    /** The features of a service, whole views expanded, in order and without repeats. */
    public List<FeatureRef> resolveService(String name) {
        return resolveWithViews(featureService(name).features());
    }

    /** "view:feature" references and whole views (every feature of the view), checked, in order and without repeats. */
    public List<FeatureRef> resolveWithViews(List<String> entries) {
        if (entries.isEmpty()) {
            throw new GranaryException("no features requested", "name features as VIEW:FEATURE or whole VIEWs");
        }
        LinkedHashSet<FeatureRef> refs = new LinkedHashSet<>();
        for (String entry : entries) {
            if (entry.contains(":")) {
                refs.addAll(resolve(List.of(entry)));
            } else {
                FeatureView view = featureView(entry);
                view.features().forEach(f -> refs.add(new FeatureRef(view.name(), f.name())));
            }
        }
        return new ArrayList<>(refs);
    }
}
