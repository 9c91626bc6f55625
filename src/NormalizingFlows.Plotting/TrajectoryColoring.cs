namespace NormalizingFlows.Plotting;

/// <summary>How the trajectory plots colour each point, always by where it started in the base, so it can be followed through the layers.</summary>
public enum TrajectoryColoring
{
    /// <summary>By the angle of the base point around the origin, on a cyclic colour map: neighbouring directions get neighbouring colours.</summary>
    Angle,

    /// <summary>By the rank of the base point's first coordinate, on viridis: left to right becomes dark to bright.</summary>
    FirstCoordinate,
}
